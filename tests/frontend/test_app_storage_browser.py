"""HTML5 apps that use web storage run in the sandbox: the stand-in storage in a real browser.

Apps play in an opaque origin (no allow-same-origin), where the browser refuses
`localStorage` and `sessionStorage`; the sandbox origin serves every app page with an
in-memory Storage loaded first (frontend/static/frontend/sandbox/storage-shim.js). Two apps,
built here, use it the ways apps do (methods, property access, `length`/`key()`); the second
must not see what the first stored.
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from typing import Iterator

import pytest

from tests.browser import watched_page
from tests.servers import ServerProcess, prepared_server

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 30_000
CHANNEL_ID = "5707a000000000000000000000000000"
ROOT_ID = "5707a000000000000000000000000001"
WRITER_ID = "5707a000000000000000000000000002"
READER_ID = "5707a000000000000000000000000003"

# No <head>: the stand-in must still come before the app's own script.
WRITER_PAGE = """<!DOCTYPE html>
<title>Score keeper</title>
<p id="result">not run</p>
<p id="cookie">untried</p>
<script>
function run() {
  localStorage.setItem("score", 41);
  localStorage.score = Number(localStorage.getItem("score")) + 1;
  sessionStorage.setItem("level", "two");
  var keys = [];
  for (var i = 0; i < localStorage.length; i++) { keys.push(localStorage.key(i)); }
  localStorage.removeItem("missing");
  return "score " + localStorage.getItem("score") + ", level " +
         sessionStorage.getItem("level") + ", keys " + keys.join(",");
}
try { document.getElementById("result").textContent = run(); }
catch (error) { document.getElementById("result").textContent = "failed: " + error.name; }
try { document.getElementById("cookie").textContent = "read: " + document.cookie; }
catch (error) { document.getElementById("cookie").textContent = "blocked: " + error.name; }
</script>
"""
READER_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Score reader</title>
<script>
window.addEventListener("DOMContentLoaded", function () {
  document.getElementById("result").textContent =
    "score " + localStorage.getItem("score") + ", " + localStorage.length + " items";
});
</script></head>
<body><p id="result">not run</p></body></html>
"""


def app_zip(page: str) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", page)
    return buffer.getvalue()


def build_storage_channel() -> None:
    """Run inside the server (`kolibri-like shell`)."""
    from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel

    apps = [NodeSpec(id=node_id, title=title, kind="html5", files=[
        FileSpec(preset="html5_zip", extension="zip", source=app_zip(page))])
        for node_id, title, page in ((WRITER_ID, "Score keeper", WRITER_PAGE),
                                     (READER_ID, "Score reader", READER_PAGE))]
    build_channel(ChannelSpec(id=CHANNEL_ID, name="Apps with storage", root=NodeSpec(
        id=ROOT_ID, title="Apps with storage", kind="topic", children=apps)))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = prepared_server(tmp_path_factory.mktemp("storage") / "server",
                             "from tests.frontend.test_app_storage_browser import "
                             "build_storage_channel; build_storage_channel()")
    with server:
        yield server


def test_an_app_using_web_storage_runs_and_keeps_its_items_to_itself(
        server: ServerProcess) -> None:
    from playwright.sync_api import expect

    zip_url = server.zip_url
    with watched_page(server.url, wait_ms=WAIT_MS, other_origins=[zip_url]) as page:
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{WRITER_ID}/")
        app = page.frame_locator("iframe[data-player-app]")
        expect(app.locator("#result")).to_have_text("score 42, level two, keys score")
        # Still an opaque origin: only storage has a stand-in, cookies stay refused.
        expect(app.locator("#cookie")).to_have_text("blocked: SecurityError")
        frame = page.locator("iframe[data-player-app]").element_handle().content_frame()
        assert frame is not None and frame.evaluate("self.origin") == "null"

        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{READER_ID}/")
        app = page.frame_locator("iframe[data-player-app]")
        expect(app.locator("#result")).to_have_text("score null, 0 items")
