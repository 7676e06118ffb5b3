"""Debian's chromium through Playwright, for the browser tests (never `playwright install`).

    with watched_page(server.url, wait_ms=20_000) as page:
        page.goto(server.url + "/")

The page records every request to another host, every 4xx/5xx answer and every uncaught script
error; leaving the block asserts there were none. An answer the test expects (the server's
validation shown next to a field, a refused upload) is named in `allow` as (method, path
regex, status), so every other failure still fails:

    with watched_page(server.url, wait_ms=30_000,
                      allow=[("PATCH", r"/api/drafts/[0-9a-f-]{36}/", 400)]) as page:
        ...

A missing chromium fails loudly: `make test` installs it.

Screenshots for the README go to `docs/screenshots/` only when asked
(`UPDATE_SCREENSHOTS=1 make test`); otherwise to a temp folder, so a test run never changes
tracked files:

    page.screenshot(path=str(screenshot_path("wizard-1-basics.png")), full_page=True)
"""

from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def screenshot_path(name: str) -> Path:
    folder = DOCS_SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else \
        Path(tempfile.gettempdir()) / "kolibri-like-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless=new", "--autoplay-policy=no-user-gesture-required",
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]

# An answer a test expects: (HTTP method, or "*" for any; a regex the URL's whole path
# matches; the status).
ExpectedAnswer = tuple[str, str, int]


def require_chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
                    "(apt-get install chromium) for the browser tests.")
    return CHROMIUM


def is_expected(method: str, url: str, status: int, allow: Iterable[ExpectedAnswer]) -> bool:
    """Whether a 4xx/5xx answer is one of those the test named in `allow`."""
    path = urlsplit(url).path
    return any(status == allowed_status and allowed_method in ("*", method.upper())
               and re.fullmatch(pattern, path)
               for allowed_method, pattern, allowed_status in allow)


@contextmanager
def watched_page(server_url: str, *, wait_ms: int, allow: Iterable[ExpectedAnswer] = (),
                 other_origins: Iterable[str] = ()) -> Iterator[Any]:
    """`other_origins`: more of this server's own origins the page may use (the sandbox origin
    of HTML5 apps)."""
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    own_hosts = {urlsplit(origin).netloc for origin in (server_url, *other_origins)}
    expected = list(allow)
    foreign_requests: list[str] = []
    failed_responses: list[str] = []
    script_errors: list[str] = []

    def on_request(request: Any) -> None:
        # chrome-extension:// (the built-in PDF viewer) and data: stay inside the browser.
        address = urlsplit(request.url)
        if address.scheme in ("http", "https", "ws", "wss") and address.netloc not in own_hosts:
            foreign_requests.append(request.url)

    def on_response(response: Any) -> None:
        method = response.request.method
        if response.status >= 400 and not is_expected(method, response.url, response.status,
                                                       expected):
            failed_responses.append(f"{method} {response.status} {response.url}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(wait_ms)
            page = context.new_page()
            page.on("request", on_request)
            page.on("response", on_response)
            # An uncaught exception in a page's script: the page looks fine and does nothing.
            page.on("pageerror", lambda error: script_errors.append(str(error)))
            yield page
        finally:
            browser.close()
    assert foreign_requests == [], f"the pages asked another host: {foreign_requests}"
    assert failed_responses == [], f"some requests failed: {failed_responses}"
    assert script_errors == [], f"the page's scripts failed: {script_errors}"
