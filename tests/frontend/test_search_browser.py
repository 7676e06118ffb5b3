"""A real browser against a real server: type words in the header's search box, read the
results from two channels, narrow them by kind, and open one.

Debian's chromium through Playwright (tests/browser.py); the server is `kolibri-like start`
with two demo channels, indexed when they were installed. The page needs no JavaScript.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Iterator

import pytest

from tests.browser import watched_page
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 20_000


@pytest.fixture(scope="module")
def search_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("search-browser") / "server")
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    server.run_command("generate_demo_channel", "--nodes", "30", "--seed", "1")
    server.run_command("generate_demo_channel", "--nodes", "30", "--seed", "2")
    with server:
        yield server


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def a_video(server: ServerProcess) -> dict:
    """A video of the first channel, as the content API lists it."""
    channel = get_json(server.url + "/api/channels/")["results"][0]
    nodes = get_json(f"{server.url}/api/content/{channel['id']}/contentnode/?kind=video"
                     "&page_size=100")["results"]
    assert nodes, "the demo channel has videos"
    return nodes[0]


def test_a_learner_searches_from_the_header_and_opens_a_result(search_server, tmp_path):
    video = a_video(search_server)
    # "Video: <concept>, <aspect>": search for the concept's words.
    concept = video["title"].split(": ", 1)[1].split(",")[0]
    with watched_page(search_server.url, wait_ms=WAIT_MS) as page:
        page.goto(search_server.url + "/")
        box = page.locator("form.site-search input[name=q]")
        box.fill(concept)
        with page.expect_navigation():
            box.press("Enter")
        assert page.url.startswith(f"{search_server.url}/search/?q=")
        assert page.locator("form.site-search input[name=q]").input_value() == concept
        results = page.locator("li.search-result")
        results.first.wait_for()
        assert "result" in page.locator(".search-count").inner_text()
        channels_shown = set(page.locator(".search-result__channel").all_inner_texts())
        assert channels_shown, "each result names its channel"
        page.screenshot(path=str(tmp_path / "search-results.png"), full_page=True)

        # Only videos: the kind filter of the page's form.
        page.select_option("form.search-form select[name=kind]", "video")
        with page.expect_navigation():
            page.click("form.search-form button[type=submit]")
        assert "kind=video" in page.url
        kinds = page.locator(".search-result__kind").all_inner_texts()
        assert kinds and set(kinds) == {"video"}

        # Open the video found: its content page plays it.
        result = page.locator(f'li.search-result[data-node-id="{video["id"]}"] a')
        assert result.inner_text() == video["title"]
        with page.expect_navigation():
            result.click()
        assert page.url == (f"{search_server.url}/channels/{video['channel_id']}"
                            f"/content/{video['id']}/")
        assert page.locator("h1").inner_text() == video["title"]
        page.locator("video").wait_for()


def test_a_search_with_nothing_found_says_so(search_server):
    with watched_page(search_server.url, wait_ms=WAIT_MS) as page:
        page.goto(search_server.url + "/search/?q=zzzqqqxxx")
        assert "Nothing found for" in page.locator("main").inner_text()
