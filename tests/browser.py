"""Debian's chromium through Playwright, for the browser tests (never `playwright install`).

    with watched_page(server.url, wait_ms=20_000) as page:
        page.goto(server.url + "/")

The page records every request to another host and every 4xx/5xx answer; leaving the block
asserts there were none. A missing chromium fails loudly: `make test` installs it.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless=new", "--autoplay-policy=no-user-gesture-required",
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def require_chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
                    "(apt-get install chromium) for the browser tests.")
    return CHROMIUM


@contextmanager
def watched_page(server_url: str, *, wait_ms: int) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    server_host = urlsplit(server_url).netloc
    foreign_requests: list[str] = []
    failed_responses: list[str] = []

    def on_request(request: Any) -> None:
        # chrome-extension:// (the built-in PDF viewer) and data: stay inside the browser.
        address = urlsplit(request.url)
        if address.scheme in ("http", "https", "ws", "wss") and address.netloc != server_host:
            foreign_requests.append(request.url)

    def on_response(response: Any) -> None:
        if response.status >= 400:
            failed_responses.append(f"{response.status} {response.url}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(wait_ms)
            page = context.new_page()
            page.on("request", on_request)
            page.on("response", on_response)
            yield page
        finally:
            browser.close()
    assert foreign_requests == [], "the pages asked another host"
    assert failed_responses == [], "some requests failed"
