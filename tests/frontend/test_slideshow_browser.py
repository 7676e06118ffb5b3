"""A slideshow (manifest + images, Kolibri's format) plays in a real browser.

A real server (`kolibri-like start`) and Debian's chromium. The channel, written inside the
server, has a slideshow whose manifest lists its three images out of file order (sort_order
decides), with captions, and one entry naming an image the node does not have.
"""

from __future__ import annotations

import hashlib
import json
from io import BytesIO
from typing import Iterator

import pytest

from tests.browser import screenshot_path, watched_page
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 30_000
CHANNEL_ID = "511de000000000000000000000000000"
ROOT_ID = "511de000000000000000000000000001"
SLIDESHOW_ID = "511de000000000000000000000000002"
EMPTY_SLIDESHOW_ID = "511de000000000000000000000000003"
LEARNER = ("sami", "sami-slides-42")
COLOURS = {"red": (200, 30, 30), "green": (30, 160, 60), "blue": (30, 60, 200)}
# Shown in this order (sort_order), whatever the order of the files and the manifest.
CAPTIONS = {"blue": "First: the sky", "red": "Second: a <b>brick</b> wall",
            "green": "Third: the grass"}


def png(colour: str) -> bytes:
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (64, 48), COLOURS[colour]).save(buffer, format="PNG")
    return buffer.getvalue()


def checksum(colour: str) -> str:
    return hashlib.md5(png(colour)).hexdigest()


def manifest() -> bytes:
    entries = [
        {"checksum": checksum("red"), "extension": "png", "caption": CAPTIONS["red"],
         "descriptive_text": "A red wall", "sort_order": 2},
        {"checksum": "0" * 32, "extension": "png", "caption": "Not in this node",
         "sort_order": 0},
        {"checksum": checksum("green"), "extension": "png", "caption": CAPTIONS["green"],
         "sort_order": 3},
        {"checksum": checksum("blue"), "extension": "png", "caption": CAPTIONS["blue"],
         "sort_order": 1},
    ]
    return json.dumps({"slideshow_data": entries}).encode()


def build_slideshow_channel() -> None:
    """Run inside the server (`kolibri-like shell`)."""
    from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel

    slideshow = NodeSpec(id=SLIDESHOW_ID, title="Colours", kind="slideshow", files=[
        *[FileSpec(preset="slideshow_image", extension="png", source=png(colour))
          for colour in ("green", "red", "blue")],
        FileSpec(preset="slideshow_manifest", extension="json", source=manifest())])
    # A manifest that is not JSON, and no image: nothing to show.
    empty = NodeSpec(id=EMPTY_SLIDESHOW_ID, title="No slides", kind="slideshow", files=[
        FileSpec(preset="slideshow_manifest", extension="json", source=b"{not json")])
    build_channel(ChannelSpec(id=CHANNEL_ID, name="Slides", root=NodeSpec(
        id=ROOT_ID, title="Slides", kind="topic", children=[slideshow, empty])))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("slides") / "server")
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    server.run_command("shell", "-c", (
        "from tests.frontend.test_slideshow_browser import build_slideshow_channel; "
        "build_slideshow_channel()"))
    server.run_command("shell", "-c", (
        "from accounts.models import User; "
        f"User.objects.create_user({LEARNER[0]!r}, password={LEARNER[1]!r}, role='learner')"))
    with server:
        yield server


def test_a_slideshow_shows_its_slides_in_order_with_captions(server: ServerProcess) -> None:
    from playwright.sync_api import expect

    with watched_page(server.url, wait_ms=WAIT_MS) as page:
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{SLIDESHOW_ID}/")
        player = page.locator("[data-player-slideshow]")
        expect(player).to_have_attribute("data-state", "ready")
        image = page.locator("[data-slideshow-image]")
        caption = page.locator("[data-slideshow-caption]")
        counter = page.locator("[data-slideshow-counter]")

        def expect_slide(colour: str, number: int) -> None:
            expect(player).to_have_attribute("data-slide", str(number - 1))
            expect(image).to_have_attribute("src", f"/content/storage/{checksum(colour)[0]}/"
                                                   f"{checksum(colour)[1]}/{checksum(colour)}.png")
            expect(caption).to_have_text(CAPTIONS[colour])
            expect(counter).to_have_text(f"Slide {number} of 3")

        expect_slide("blue", 1)
        assert page.evaluate("document.querySelector('[data-slideshow-image]').naturalWidth") == 64
        expect(page.locator("[data-slideshow-previous]")).to_be_disabled()
        page.screenshot(path=str(screenshot_path("slideshow.png")), full_page=True)

        page.click("[data-slideshow-next]")
        expect_slide("red", 2)
        # A caption is text: the manifest's markup shows as written, nothing is parsed.
        expect(caption.locator("b")).to_have_count(0)
        expect(image).to_have_attribute("alt", "A red wall")
        page.click("[data-slideshow-next]")
        expect_slide("green", 3)
        expect(page.locator("[data-slideshow-next]")).to_be_disabled()
        page.click("[data-slideshow-previous]")
        expect_slide("red", 2)

        page.keyboard.press("ArrowLeft")
        expect_slide("blue", 1)
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        expect_slide("green", 3)
        page.keyboard.press("ArrowRight")  # the last slide stays
        expect_slide("green", 3)
        # Every image can be downloaded too.
        expect(page.locator(".downloads a[download][href$='.png']")).to_have_count(3)


def test_a_slideshow_with_nothing_to_show_says_so_and_offers_the_download(
        server: ServerProcess) -> None:
    from playwright.sync_api import expect

    with watched_page(server.url, wait_ms=WAIT_MS) as page:
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{EMPTY_SLIDESHOW_ID}/")
        expect(page.locator("[data-player-slideshow]")).to_have_attribute("data-state", "error")
        expect(page.locator("[data-slideshow-error]")).to_be_visible()
        expect(page.locator(".downloads a[download]")).to_have_count(1)


def test_a_slideshow_counts_as_done_once_every_slide_was_shown(server: ServerProcess) -> None:
    from playwright.sync_api import expect

    with watched_page(server.url, wait_ms=WAIT_MS) as page:
        page.goto(f"{server.url}/login/?next=/")
        page.fill("#id_username", LEARNER[0])
        page.fill("#id_password", LEARNER[1])
        with page.expect_navigation():
            page.click("main button[type=submit]")
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{SLIDESHOW_ID}/")
        player = page.locator("[data-player-slideshow]")
        expect(player).to_have_attribute("data-state", "ready")
        page.keyboard.press("ArrowRight")
        expect(player).to_have_attribute("data-slide", "1")
        page.wait_for_timeout(500)  # two of three slides: nothing is reported yet
        assert page.locator("article").get_attribute("data-progress-reported") is None
        page.keyboard.press("ArrowRight")
        expect(page.locator("article")).to_have_attribute("data-progress-reported", "1")
