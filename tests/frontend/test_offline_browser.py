"""When the Wi-Fi flickers: a real browser, a real server that goes away and comes back.

1. Plain http: a page open in the browser, the server stops; the page says so by itself,
   holds a link clicked meanwhile, and when a server starts again on the same port and home
   the banner goes away without a reload, or the held page opens. No service worker on http.
2. HTTPS (`start --https`; chromium trusts the server's own authority, as a tablet would):
   the service worker installs and controls the page; with the server gone a reload still
   shows the cached offline page, styled from the cache, and it opens the real page by itself
   when the server is back.
Plus what the browser caches: hashed static files for a year or more, pages not at all.

Debian's chromium through Playwright (tests/browser.py). Every wait is bounded.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
import requests

from tests.browser import CHROMIUM_ARGS, is_expected, require_chromium, watched_page
from tests.kolibri_like.test_https import HTTPSServerProcess
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 20_000
# The page pings every 10 s while the server answers, so noticing takes up to about 11 s.
NOTICE_MS = 30_000
# Starting again migrates, collects static files and recovers before answering.
RECOVER_MS = 90_000
BANNER = ".connection-banner"
AWAY_TEXT = "The server is not answering. Retrying…"


@pytest.fixture
def demo_server(tmp_path) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path / "server")
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    server.run_command("generate_demo_channel", "--nodes", "12", "--seed", "5")
    with server:
        yield server


def test_hashed_static_files_are_cached_for_good_and_pages_are_not(demo_server):
    page = requests.get(demo_server.url + "/", timeout=10)
    stylesheet = re.search(r'href="(/static/frontend/site\.[0-9a-f]{12}\.css)"', page.text)
    assert stylesheet, "pages link the content-hashed stylesheet"

    cached = requests.get(demo_server.url + stylesheet.group(1), timeout=10)

    assert cached.status_code == 200
    directives = [part.strip() for part in cached.headers["Cache-Control"].split(",")]
    assert "immutable" in directives
    max_age = next(int(part.split("=")[1]) for part in directives if part.startswith("max-age="))
    assert max_age >= 31_536_000
    # The page itself: no lifetime, and nothing a browser could reuse without asking.
    assert "max-age" not in page.headers.get("Cache-Control", "")
    assert "Last-Modified" not in page.headers and "Expires" not in page.headers


def test_the_manifest_lets_a_tablet_add_the_server_to_its_home_screen(demo_server):
    from PIL import Image
    from io import BytesIO

    page = requests.get(demo_server.url + "/", timeout=10).text
    link = re.search(r'<link rel="manifest" href="([^"]+)"', page)
    assert link
    response = requests.get(demo_server.url + link.group(1), timeout=10)
    manifest = response.json()

    assert response.headers["Content-Type"] == "application/manifest+json"
    assert (manifest["start_url"], manifest["display"]) == ("/", "standalone")
    assert manifest["name"]  # SERVER_NAME, the host name by default
    for icon in manifest["icons"]:
        image = Image.open(BytesIO(requests.get(demo_server.url + icon["src"],
                                                timeout=10).content))
        assert f"{image.width}x{image.height}" == icon["sizes"]
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}


def banner_is_shown(page: Any) -> None:
    page.wait_for_selector(f"{BANNER}:not([hidden])", state="visible", timeout=NOTICE_MS)


def test_the_page_says_when_the_server_is_away_and_recovers_by_itself(demo_server):
    with watched_page(demo_server.url, wait_ms=WAIT_MS) as page:
        page.goto(demo_server.url + "/")
        assert page.locator(BANNER).is_hidden()
        # Marks this very page: still there after recovery means the page was not reloaded.
        page.evaluate("window.stillTheSamePage = true")
        # On http no service worker, even on 127.0.0.1 where Chrome would allow one.
        assert page.evaluate("navigator.serviceWorker.getRegistrations()"
                             ".then(registrations => registrations.length)") == 0

        demo_server.stop()
        banner_is_shown(page)
        banner = page.locator(BANNER)
        assert banner.get_attribute("role") == "status"
        assert AWAY_TEXT in banner.inner_text()

        demo_server.start()
        page.wait_for_selector(BANNER, state="hidden", timeout=RECOVER_MS)
        assert page.evaluate("window.stillTheSamePage") is True
        assert urlsplit(page.url).path == "/"


def test_a_link_clicked_while_the_server_is_away_opens_when_it_is_back(demo_server):
    with watched_page(demo_server.url, wait_ms=WAIT_MS) as page:
        page.goto(demo_server.url + "/")
        demo_server.stop()
        banner_is_shown(page)

        # Instead of the browser's error page: the click waits for the server.
        page.locator(".channel-card__link").first.click()
        assert "The page you asked for opens when it does" in page.locator(BANNER).inner_text()
        assert urlsplit(page.url).path == "/"

        demo_server.start()
        page.wait_for_url(re.compile(r".*/channels/[0-9a-f]{32}/$"), timeout=RECOVER_MS)
        assert page.locator(BANNER).is_hidden()


def authority_pin(authority_pem: bytes) -> str:
    """The authority's SPKI fingerprint, as chromium's --ignore-certificate-errors-spki-list
    takes it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    public_key = x509.load_pem_x509_certificate(authority_pem).public_key()
    spki = public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.mark.parametrize("request_script", [
    "fetch('/api/channels/').catch(() => null)",
    "(() => { const upload = new XMLHttpRequest(); upload.open('GET', '/api/channels/');"
    " upload.send(); })()",
], ids=["fetch", "xhr"])
def test_a_request_of_the_page_failing_makes_it_ask_the_server_at_once(demo_server,
                                                                       request_script):
    with watched_page(demo_server.url, wait_ms=WAIT_MS) as page:
        page.goto(demo_server.url + "/")
        loaded = time.monotonic()
        # The network fails this one request; the next heartbeat is 10 s after loading.
        page.route("**/api/channels/", lambda route: route.abort("connectionreset"))
        with page.expect_request("**/ping/", timeout=5_000):
            page.evaluate(request_script)
        assert time.monotonic() - loaded < 9, "the ping may have been the heartbeat"
        # The server answered the ping: nothing to tell.
        page.wait_for_timeout(500)
        assert page.locator(BANNER).is_hidden()


@contextmanager
def https_page(server: HTTPSServerProcess, *, wait_ms: int) -> Iterator[Any]:
    """watched_page's checks for an HTTPS server, in a chromium that trusts the server's own
    authority as a tablet told to trust it would. Playwright's ignore_https_errors is not
    enough: chromium refuses to register a service worker whose script came with a
    certificate error. Requests that fail while the server is away are connection failures,
    not answers, so they are not counted."""
    from playwright.sync_api import sync_playwright

    server_host = urlsplit(server.url).netloc
    pin = authority_pin(server.authority.read_bytes())
    foreign_requests: list[str] = []
    failed_responses: list[str] = []
    script_errors: list[str] = []

    def on_response(response: Any) -> None:
        if response.status >= 400 and not is_expected(response.request.method, response.url,
                                                       response.status, ()):
            failed_responses.append(f"{response.request.method} {response.status} "
                                    f"{response.url}")

    def on_request(request: Any) -> None:
        address = urlsplit(request.url)
        if address.scheme in ("http", "https", "ws", "wss") and address.netloc != server_host:
            foreign_requests.append(request.url)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(require_chromium()),
            args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(wait_ms)
            context.on("request", on_request)
            context.on("response", on_response)
            page = context.new_page()
            page.on("pageerror", lambda error: script_errors.append(str(error)))
            yield page
        finally:
            browser.close()
    assert foreign_requests == [], f"the pages asked another host: {foreign_requests}"
    assert failed_responses == [], f"some requests failed: {failed_responses}"
    assert script_errors == [], f"the page's scripts failed: {script_errors}"


@pytest.fixture
def https_server(tmp_path) -> Iterator[HTTPSServerProcess]:
    server = HTTPSServerProcess(tmp_path / "server")
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    server.run_command("generate_demo_channel", "--nodes", "12", "--seed", "6")
    with server:
        yield server


def test_over_https_a_reload_without_the_server_shows_the_cached_shell(https_server):
    with https_page(https_server, wait_ms=WAIT_MS) as page:
        page.goto(https_server.url + "/")
        # Installed, activated and claimed this page (clients.claim), all bounded by WAIT_MS.
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == (
            https_server.url + "/sw.js")
        assert page.evaluate("caches.match('/offline/').then(cached => Boolean(cached))")

        https_server.stop()
        page.reload()

        assert page.locator("h1").inner_text() == "This page cannot open right now"
        assert urlsplit(page.url).path == "/"  # the address the learner asked for stays
        banner_is_shown(page)
        # The stylesheet came from the worker's cache: the header has the brand colour.
        assert page.evaluate(
            "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
        ) == "rgb(11, 110, 105)"

        https_server.start()
        # The offline page opens the page that was asked for by itself.
        page.wait_for_selector("h1:text-is('Channels')", timeout=RECOVER_MS)
        assert page.locator(BANNER).is_hidden()
        assert page.locator(".channel-card").count() >= 1
