"""A real browser against a real server: browse a demo channel, play a video with captions,
listen to audio, open a PDF.

Playwright's Python package drives Debian's chromium (`executable_path`; never `playwright
install`, which downloads). `make test` installs chromium; without it this test fails, loudly.
Every wait is bounded; the browser talks to 127.0.0.1 only, and the test checks that.

Screenshots of the pages land in the test's tmp dir (`--basetemp` to keep them somewhere).
"""

from __future__ import annotations

from collections import deque
from typing import Iterator

import pytest

from tests.browser import watched_page
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 20_000
# Topic pages visited at most while looking for a card of some kind.
MAX_TOPIC_PAGES = 40


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("browser") / "server")
    server.home.mkdir(parents=True, exist_ok=True)
    # The channel registry lives in the default database: migrate before making content.
    server.run_command("migrate", "--noinput")
    server.run_command("generate_demo_channel", "--nodes", "30", "--seed", "7")
    with server:
        yield server


@pytest.fixture
def page(demo_server: ServerProcess):
    """A chromium page; afterwards, checks it asked no other host and got no error status."""
    with watched_page(demo_server.url, wait_ms=WAIT_MS) as browser_page:
        yield browser_page


def open_channel(page, server: ServerProcess) -> list[str]:
    """Open the home page and click the first channel.

    Returns the channel page's URL, then the other channels' (searched if the first one lacks
    some kind of content).
    """
    page.goto(server.url + "/")
    channel_links = page.locator("a.channel-card__link")
    channel_links.first.wait_for()
    channel_urls = channel_links.evaluate_all("links => links.map(a => a.href)")
    channel_links.first.click()
    page.wait_for_url(f"{server.url}/channels/*/")
    assert page.url == channel_urls[0]
    assert page.locator("nav.breadcrumbs").is_visible()
    return channel_urls


def find_card(page, start_urls: list[str], kind: str, player: str | None = None) -> str:
    """Breadth-first through topic pages for a card of `kind`; click it; return its URL.

    With `player`, skip content pages whose player is another one (a document may be an EPUB).
    """
    queue, seen, visited = deque(start_urls), set(start_urls), 0
    while queue and visited < MAX_TOPIC_PAGES:
        page.goto(queue.popleft())
        visited += 1
        for index in range(page.locator(f"a.card--{kind}").count()):
            card = page.locator(f"a.card--{kind}").nth(index)
            topic_url = page.url
            card.click()
            page.wait_for_load_state()
            if player is None or page.locator(f'article[data-player="{player}"]').count():
                return page.url
            page.goto(topic_url)
        for href in page.locator("a.card--topic").evaluate_all("links => links.map(a => a.href)"):
            if href not in seen:
                seen.add(href)
                queue.append(href)
    raise AssertionError(f"no {kind} card found within {visited} topic pages from {start_urls}")


def test_a_learner_plays_a_video_with_captions(page, demo_server, tmp_path):
    channel_urls = open_channel(page, demo_server)
    find_card(page, channel_urls, "video", player="video")
    video = page.locator("video")
    assert video.locator("source").count() >= 1

    page.evaluate("""async () => {
        const video = document.querySelector("video");
        video.muted = true;
        await video.play();
    }""")
    page.wait_for_function("document.querySelector('video').currentTime > 0.5",
                           timeout=WAIT_MS)
    played = page.evaluate("document.querySelector('video').currentTime")
    assert played > 0.5

    page.wait_for_function("document.querySelector('video track').readyState === 2",
                           timeout=WAIT_MS)
    captions = page.evaluate("""() => {
        const video = document.querySelector("video");
        const track = video.textTracks[0];
        return {mode: track.mode, kind: track.kind, ready: document.querySelector("track").readyState,
                cues: track.cues ? track.cues.length : 0};
    }""")
    assert captions["kind"] == "captions" and captions["mode"] == "showing"
    assert captions["ready"] == 2  # HTMLTrackElement.LOADED
    assert captions["cues"] > 0
    page.evaluate("document.querySelector('video').pause()")
    page.screenshot(path=str(tmp_path / "video-page.png"), full_page=True)


def test_a_learner_listens_to_audio(page, demo_server, tmp_path):
    channel_urls = open_channel(page, demo_server)
    find_card(page, channel_urls, "audio", player="audio")
    page.wait_for_function("document.querySelector('audio').readyState > 0", timeout=WAIT_MS)
    duration = page.evaluate("document.querySelector('audio').duration")
    assert duration > 0
    page.screenshot(path=str(tmp_path / "audio-page.png"), full_page=True)


def test_a_learner_reads_a_pdf(page, demo_server, tmp_path):
    channel_urls = open_channel(page, demo_server)
    find_card(page, channel_urls, "document", player="pdf")
    pdf_url = page.locator("object.player__pdf").get_attribute("data")
    assert pdf_url and pdf_url.endswith(".pdf")
    response = page.request.get(demo_server.url + pdf_url)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body().startswith(b"%PDF")
    download = page.locator("ul.downloads a[download]").first
    assert download.get_attribute("href") == pdf_url
    page.wait_for_timeout(1500)  # the built-in viewer draws the page a moment after loading
    page.screenshot(path=str(tmp_path / "pdf-page.png"), full_page=True)


def test_the_channel_list_and_a_topic_page_render(page, demo_server, tmp_path):
    page.goto(demo_server.url + "/")
    page.screenshot(path=str(tmp_path / "home-page.png"), full_page=True)
    channel_url = open_channel(page, demo_server)[0]
    assert page.locator("a.card").count() > 0
    page.screenshot(path=str(tmp_path / "channel-page.png"), full_page=True)
    # A phone-sized window: no horizontal scrolling.
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(channel_url)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(tmp_path / "channel-page-phone.png"), full_page=True)
