"""HTML5 apps and Flash play in a real browser from the sandbox origin, and stay inside it.

A real server (`kolibri-like start`, its sandbox origin on a port of the test's choosing via
ZIP_PORT) and Debian's chromium. The test builds, inside the server (`kolibri-like shell`), a
channel with an HTML5 app (index.html, a script in a folder, a JSON file it fetches) and a
tiny SWF written here by hand, then checks:

- the app's page frames the other origin, the app's script runs and fetches its own file,
  and what it may not do is refused: reading the parent page's cookies and DOM, its own
  storage (opaque origin), and calling the main site's API (CSP);
- the Flash page frames Ruffle from the sandbox origin, and Ruffle loads the movie and reads
  its header (size, version) right;
- every request went to one of the two origins, none failed, no script error.
"""

from __future__ import annotations

import json
import struct
import zipfile
from io import BytesIO
from typing import Iterator

import pytest

from tests.browser import screenshot_path, watched_page
from tests.servers import ServerProcess, prepared_server

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 30_000
CHANNEL_ID = "5a0d0000000000000000000000000000"
ROOT_ID = "5a0d0000000000000000000000000001"
APP_ID = "5a0d0000000000000000000000000002"
FLASH_ID = "5a0d0000000000000000000000000003"
MOVIE_WIDTH, MOVIE_HEIGHT, MOVIE_VERSION = 200, 100, 10

APP_INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Counting app</title></head>
<body>
<h1>Counting app</h1>
<p id="ran">not run</p>
<p id="data">no data</p>
<p id="parent-cookie">untried</p>
<p id="parent-dom">untried</p>
<p id="own-storage">untried</p>
<p id="main-api">untried</p>
<script src="js/app.js"></script>
</body></html>
"""
# What a hostile app would try. Each probe writes what happened into the app's own page.
APP_SCRIPT = """
function show(id, text) { document.getElementById(id).textContent = text; }
function probe(id, attempt) {
  try { show(id, "read: " + attempt()); } catch (error) { show(id, "blocked: " + error.name); }
}
show("ran", "the app ran");
probe("parent-cookie", function () { return window.parent.document.cookie; });
probe("parent-dom", function () { return window.parent.document.body.innerHTML.length; });
probe("own-storage", function () { return window.localStorage.length; });
fetch("data/numbers.json")
  .then(function (answer) { return answer.json(); })
  .then(function (data) { show("data", "numbers: " + data.numbers.join(",")); },
        function (error) { show("data", "fetch failed: " + error); });
fetch(MAIN_ORIGIN + "/api/channels/", {credentials: "include"})
  .then(function (answer) { show("main-api", "read: " + answer.status); },
        function (error) { show("main-api", "blocked: " + error.name); });
"""


def app_zip(main_origin: str) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", APP_INDEX)
        archive.writestr("js/app.js", f"var MAIN_ORIGIN = {json.dumps(main_origin)};\n"
                                      + APP_SCRIPT)
        archive.writestr("data/numbers.json", json.dumps({"numbers": [1, 2, 3]}))
    return buffer.getvalue()


def swf_rect(x_max: int, y_max: int) -> bytes:
    """A SWF RECT (twips): 5 bits giving the field width, then xmin, xmax, ymin, ymax."""
    field_bits = max(x_max.bit_length(), y_max.bit_length()) + 1  # signed fields
    bits = format(field_bits, "05b") + "".join(
        format(value, f"0{field_bits}b") for value in (0, x_max, 0, y_max))
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def swf_tag(code: int, data: bytes = b"") -> bytes:
    assert len(data) < 0x3F  # short tag header: code and length in one 16-bit word
    return struct.pack("<H", (code << 6) | len(data)) + data


def tiny_swf() -> bytes:
    """An uncompressed SWF: header, SetBackgroundColor (9), ShowFrame (1), End (0)."""
    body = (swf_rect(MOVIE_WIDTH * 20, MOVIE_HEIGHT * 20)
            + struct.pack("<HH", 24 << 8, 1)  # 24 frames a second (8.8 fixed point), 1 frame
            + swf_tag(9, bytes([0x33, 0x66, 0x99])) + swf_tag(1) + swf_tag(0))
    return b"FWS" + bytes([MOVIE_VERSION]) + struct.pack("<I", 8 + len(body)) + body


def build_sandbox_channel(main_origin: str) -> None:
    """Run inside the server (`kolibri-like shell`): the channel with the app and the movie."""
    from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel

    app = NodeSpec(id=APP_ID, title="Counting app", kind="html5", files=[
        FileSpec(preset="html5_zip", extension="zip", source=app_zip(main_origin))])
    movie = NodeSpec(id=FLASH_ID, title="Counting movie", kind="html5", files=[
        FileSpec(preset="flash", extension="swf", source=tiny_swf())])
    build_channel(ChannelSpec(id=CHANNEL_ID, name="Sandbox", root=NodeSpec(
        id=ROOT_ID, title="Sandbox", kind="topic", children=[app, movie])))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = prepared_server(tmp_path_factory.mktemp("sandbox") / "server",
                             lambda server: "from tests.frontend.test_html5_browser import "
                             f"build_sandbox_channel; build_sandbox_channel({server.url!r})")
    with server:
        yield server


def test_an_html5_app_plays_from_the_sandbox_origin_and_cannot_reach_the_site(
        server: ServerProcess) -> None:
    from playwright.sync_api import expect

    zip_url = server.zip_url
    with watched_page(server.url, wait_ms=WAIT_MS, other_origins=[zip_url]) as page:
        page.context.add_cookies([{"name": "parent_secret", "value": "s3cret",
                                   "url": server.url}])
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{APP_ID}/")
        frame_element = page.locator("iframe[data-player-app]")
        src = frame_element.get_attribute("src")
        assert src is not None and src.startswith(f"{zip_url}/zipcontent/")
        assert src.endswith(".zip/index.html")
        assert frame_element.get_attribute("sandbox") == "allow-scripts allow-forms"
        app = page.frame_locator("iframe[data-player-app]")
        expect(app.locator("#ran")).to_have_text("the app ran")
        expect(app.locator("#data")).to_have_text("numbers: 1,2,3")
        expect(app.locator("#parent-cookie")).to_have_text("blocked: SecurityError")
        expect(app.locator("#parent-dom")).to_have_text("blocked: SecurityError")
        # The browser refuses the opaque origin's storage; the app reads the sandbox's
        # in-memory stand-in instead (tests/frontend/test_app_storage_browser.py).
        expect(app.locator("#own-storage")).to_have_text("read: 0")
        expect(app.locator("#main-api")).to_have_text("blocked: TypeError")
        frame = frame_element.element_handle().content_frame()
        assert frame is not None and frame.evaluate("self.origin") == "null"
        # Nor can the site reach into the app: another origin's document is out of reach.
        assert page.evaluate(
            "document.querySelector('iframe[data-player-app]').contentDocument") is None
        assert "parent_secret=s3cret" in page.evaluate("document.cookie")
        page.screenshot(path=str(screenshot_path("html5-app.png")))


def test_a_flash_movie_plays_through_ruffle_on_the_sandbox_origin(
        server: ServerProcess) -> None:
    zip_url = server.zip_url
    with watched_page(server.url, wait_ms=WAIT_MS, other_origins=[zip_url]) as page:
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{FLASH_ID}/")
        frame_element = page.locator("iframe[data-player-flash]")
        src = frame_element.get_attribute("src")
        assert src is not None and src.startswith(f"{zip_url}/zipcontent/")
        assert src.endswith(".swf/")
        frame = frame_element.element_handle().content_frame()
        assert frame is not None
        frame.wait_for_selector("body[data-state=loaded]", timeout=WAIT_MS)
        assert frame.locator("ruffle-player").count() == 1
        metadata = frame.evaluate("document.querySelector('ruffle-player').ruffle().metadata")
        assert (metadata["width"], metadata["height"], metadata["swfVersion"]) == (
            MOVIE_WIDTH, MOVIE_HEIGHT, MOVIE_VERSION)
        assert metadata["backgroundColor"].lower() == "#336699"
        page.screenshot(path=str(screenshot_path("flash-movie.png")))
        # Drawn, not just parsed: the middle of the frame shows the movie's background colour.
        # Ruffle draws on its own schedule after loadedmetadata, so look until it has.
        from PIL import Image

        for _attempt in range(50):
            shot = Image.open(BytesIO(frame_element.screenshot())).convert("RGB")
            middle = shot.getpixel((shot.width // 2, shot.height // 2))
            if middle == (0x33, 0x66, 0x99):
                break
            page.wait_for_timeout(100)
        assert middle == (0x33, 0x66, 0x99)
