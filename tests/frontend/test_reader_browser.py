"""EPUB books and H5P packages play in a real browser, on the sandbox origin only.

A real server (`kolibri-like start`, its sandbox origin on a port of the test's choosing via
ZIP_PORT) and Debian's chromium. The test writes, inside the server (`kolibri-like shell`), a
channel with an EPUB book it builds here (mimetype, container, OPF, navigation document and
NCX, two chapters, one carrying a script) and an H5P package with a content type library of
its own, then reads and plays them through the learner's pages.
"""

from __future__ import annotations

import json
import zipfile
from io import BytesIO
from typing import Iterator

import pytest

from tests.browser import screenshot_path, watched_page
from tests.servers import ServerProcess, prepared_server

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 30_000
CHANNEL_ID = "5eade000000000000000000000000000"
ROOT_ID = "5eade000000000000000000000000001"
BOOK_ID = "5eade000000000000000000000000002"
H5P_ID = "5eade000000000000000000000000003"
BROKEN_BOOK_ID = "5eade000000000000000000000000004"
INCOMPLETE_H5P_ID = "5eade000000000000000000000000005"
RTL_BOOK_ID = "5eade000000000000000000000000006"
LEARNER = ("rosa", "rosa-reads-42")

# epub.js asks every book for Apple's optional display options; most books have none.
DISPLAY_OPTIONS = ("GET", r"/zipcontent/[0-9a-f]{32}\.epub/META-INF/"
                          r"com\.apple\.ibooks\.display-options\.xml", 404)

CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""
OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="book-id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="book-id">urn:uuid:5eade000-0000-4000-8000-000000000002</dc:identifier>
    <dc:title>Two Chapters</dc:title>
    <dc:language>en</dc:language>
    <meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav/nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
    <item id="chapter-1" href="chapter-1.xhtml" media-type="application/xhtml+xml"/>
    <item id="chapter-2" href="chapter-2.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine toc="ncx">
    <itemref idref="chapter-1"/>
    <itemref idref="chapter-2"/>
  </spine>
</package>
"""
NAV = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>Contents</title></head>
<body>
  <nav epub:type="toc"><ol>
    <li><a href="../chapter-1.xhtml">The First Chapter</a></li>
    <li><a href="../chapter-2.xhtml#text">The Second Chapter</a></li>
  </ol></nav>
</body>
</html>
"""
NCX = """<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
  <head><meta name="dtb:uid" content="urn:uuid:5eade000-0000-4000-8000-000000000002"/></head>
  <docTitle><text>Two Chapters</text></docTitle>
  <navMap>
    <navPoint id="p1" playOrder="1"><navLabel><text>The First Chapter</text></navLabel>
      <content src="chapter-1.xhtml"/></navPoint>
    <navPoint id="p2" playOrder="2"><navLabel><text>The Second Chapter</text></navLabel>
      <content src="chapter-2.xhtml"/></navPoint>
  </navMap>
</ncx>
"""
# A book is HTML from someone else: its script must not run (the reader shows chapters in
# frames without scripts), and would only ever reach the sandbox origin if it did.
CHAPTER = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml">
<head><title>{title}</title></head>
<body>
  <h1>{title}</h1>
  <p id="text">{text}</p>
  {more}
  <script>document.getElementById("text").textContent = "a book script ran";</script>
</body>
</html>
"""


def epub_book() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # The format wants `mimetype` first and stored, not compressed.
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", CONTAINER)
        archive.writestr("OEBPS/content.opf", OPF)
        # In a folder of its own, linking up (`../`), as some books have it.
        archive.writestr("OEBPS/nav/nav.xhtml", NAV)
        archive.writestr("OEBPS/toc.ncx", NCX)
        archive.writestr("OEBPS/chapter-1.xhtml", CHAPTER.format(
            title="The First Chapter", text="Once upon a time, on page one.", more=""))
        # Long enough for several pages: the reader turns pages within a chapter too.
        archive.writestr("OEBPS/chapter-2.xhtml", CHAPTER.format(
            title="The Second Chapter", text="And then, on page two, it ended.",
            more="\n".join(f"<p>Paragraph {number} of the second chapter goes on and on, "
                            "so that the chapter needs more than one page.</p>"
                            for number in range(1, 81))))
    return buffer.getvalue()


def right_to_left_book() -> bytes:
    """The same book, in Arabic, turning its pages from right to left, and made the EPUB 2
    way: its table of contents is the NCX alone (no navigation document)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", CONTAINER)
        package = OPF.replace(
            "<dc:language>en</dc:language>", "<dc:language>ar</dc:language>").replace(
            '<spine toc="ncx">', '<spine toc="ncx" page-progression-direction="rtl">').replace(
            '<item id="nav" href="nav/nav.xhtml" media-type="application/xhtml+xml" '
            'properties="nav"/>', "")
        assert "nav.xhtml" not in package and 'direction="rtl"' in package
        archive.writestr("OEBPS/content.opf", package)
        archive.writestr("OEBPS/toc.ncx", NCX)
        for number, text in ((1, "الفصل الأول"), (2, "الفصل الثاني")):
            archive.writestr(f"OEBPS/chapter-{number}.xhtml", CHAPTER.format(
                title=text, text=text, more=""))
    return buffer.getvalue()


def broken_book() -> bytes:
    """A zip named .epub with no container: the reader must say so, not spin forever."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
    return buffer.getvalue()


# A content type library of the test's own: the .h5p carries it, as packages made for
# players without an H5P server do. It renders its text, counts clicks, uses localStorage
# (as H5P's core and many content types do), and says it is completed after two clicks.
H5P_JSON = {
    "title": "Hello H5P", "language": "en", "mainLibrary": "H5P.KolibriLikeGreeting",
    "embedTypes": ["iframe"], "license": "U",
    "preloadedDependencies": [
        {"machineName": "H5P.KolibriLikeGreeting", "majorVersion": "1", "minorVersion": "0"}],
}
H5P_LIBRARY_JSON = {
    "title": "Greeting", "machineName": "H5P.KolibriLikeGreeting", "majorVersion": 1,
    "minorVersion": 0, "patchVersion": 0, "runnable": 1,
    "preloadedJs": [{"path": "greeting.js"}], "preloadedCss": [{"path": "greeting.css"}],
}
H5P_LIBRARY_SCRIPT = """
H5P.KolibriLikeGreeting = (function ($, EventDispatcher) {
  function Greeting(params, contentId) {
    EventDispatcher.call(this);
    this.text = params.text;
    this.contentId = contentId;
  }
  Greeting.prototype = Object.create(EventDispatcher.prototype);
  Greeting.prototype.constructor = Greeting;
  Greeting.prototype.attach = function ($container) {
    var self = this;
    var clicks = 0;
    var text = $("<p class='greeting__text'></p>").text(this.text);
    var button = $("<button type='button' class='greeting__button'>Clicked 0 times</button>");
    var stored = $("<p class='greeting__storage'></p>");
    button.on("click", function () {
      clicks += 1;
      localStorage.setItem("greeting-clicks", String(clicks));
      button.text("Clicked " + localStorage.getItem("greeting-clicks") + " times");
      if (clicks === 2) { self.triggerXAPICompleted(2, 2); }  // done after two clicks
    });
    try {
      localStorage.setItem("greeting", "kept");
      stored.text("storage: " + localStorage.getItem("greeting"));
    } catch (error) {
      stored.text("storage: " + error.name);
    }
    $container.addClass("greeting").append(text, button, stored);
  };
  return Greeting;
})(H5P.jQuery, H5P.EventDispatcher);
"""
H5P_TEXT = "Hello from an H5P package"


def h5p_package() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("h5p.json", json.dumps(H5P_JSON))
        archive.writestr("content/content.json", json.dumps({"text": H5P_TEXT}))
        folder = "H5P.KolibriLikeGreeting-1.0"
        archive.writestr(f"{folder}/library.json", json.dumps(H5P_LIBRARY_JSON))
        archive.writestr(f"{folder}/greeting.js", H5P_LIBRARY_SCRIPT)
        archive.writestr(f"{folder}/greeting.css", ".greeting__text { font-size: 1.5rem; }")
    return buffer.getvalue()


def h5p_package_without_its_library() -> bytes:
    """What h5p.org exports for servers that have the libraries: h5p.json and content only."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("h5p.json", json.dumps(H5P_JSON))
        archive.writestr("content/content.json", json.dumps({"text": H5P_TEXT}))
    return buffer.getvalue()


def build_reader_channel() -> None:
    """Run inside the server (`kolibri-like shell`): the channel with the books."""
    from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel

    book = NodeSpec(id=BOOK_ID, title="Two Chapters", kind="document", files=[
        FileSpec(preset="epub", extension="epub", source=epub_book())])
    arabic = NodeSpec(id=RTL_BOOK_ID, title="كتاب", kind="document", files=[
        FileSpec(preset="epub", extension="epub", source=right_to_left_book())])
    broken = NodeSpec(id=BROKEN_BOOK_ID, title="A broken book", kind="document", files=[
        FileSpec(preset="epub", extension="epub", source=broken_book())])
    activity = NodeSpec(id=H5P_ID, title="Hello H5P", kind="h5p", files=[
        FileSpec(preset="h5p", extension="h5p", source=h5p_package())])
    incomplete = NodeSpec(id=INCOMPLETE_H5P_ID, title="An H5P without its library", kind="h5p",
                          files=[FileSpec(preset="h5p", extension="h5p",
                                          source=h5p_package_without_its_library())])
    build_channel(ChannelSpec(id=CHANNEL_ID, name="Readers", root=NodeSpec(
        id=ROOT_ID, title="Readers", kind="topic",
        children=[book, arabic, broken, activity, incomplete])))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = prepared_server(tmp_path_factory.mktemp("readers") / "server",
                             "from tests.frontend.test_reader_browser import build_reader_channel; "
                             "build_reader_channel()",
                             "from accounts.models import User; "
                             f"User.objects.create_user({LEARNER[0]!r}, password={LEARNER[1]!r}, "
                             "role='learner')")
    with server:
        yield server


def test_an_epub_book_reads_page_by_page_on_the_sandbox_origin(server: ServerProcess) -> None:
    from playwright.sync_api import expect

    zip_url = server.zip_url
    with watched_page(server.url, wait_ms=WAIT_MS, other_origins=[zip_url],
                      allow=[DISPLAY_OPTIONS]) as page:
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{BOOK_ID}/")
        frame_element = page.locator("iframe[data-player-epub]")
        src = frame_element.get_attribute("src")
        assert src is not None and src.startswith(f"{zip_url}/reader/")
        assert frame_element.get_attribute("sandbox") == "allow-scripts allow-same-origin"
        reader = frame_element.element_handle().content_frame()
        assert reader is not None
        reader.wait_for_selector("body[data-state=ready]", timeout=WAIT_MS)
        # The reader runs on the sandbox origin itself (epub.js must reach into its chapter
        # frames), which is not the main site: the site's pages stay out of reach.
        assert reader.evaluate("self.origin") == zip_url
        assert reader.evaluate("""() => {
            try { return window.parent.document.title; } catch (error) { return error.name; }
        }""") == "SecurityError"
        assert page.evaluate(
            "document.querySelector('iframe[data-player-epub]').contentDocument") is None
        book = page.frame_locator("iframe[data-player-epub]").frame_locator("#book iframe")
        # The chapter shows, and the script the book carries did not run.
        expect(book.locator("#text")).to_have_text("Once upon a time, on page one.")
        contents = page.frame_locator("iframe[data-player-epub]").locator(
            "[data-reader-contents] option")
        expect(contents).to_have_text(["The First Chapter", "The Second Chapter"])
        reader_body = page.frame_locator("iframe[data-player-epub]").locator("body")
        expect(reader_body).to_have_attribute("data-section", "0")
        page.screenshot(path=str(screenshot_path("epub-reader.png")))

        reader.click("[data-reader-next]")
        expect(reader_body).to_have_attribute("data-section", "1")
        expect(reader_body).to_have_attribute("data-page", "1")
        expect(book.locator("#text")).to_have_text("And then, on page two, it ended.")
        pages = int(reader_body.get_attribute("data-pages") or 0)
        assert pages > 1
        reader.click("[data-reader-next]")  # the next page of the same chapter
        expect(reader_body).to_have_attribute("data-page", "2")
        expect(reader_body).to_have_attribute("data-section", "1")
        next_button = page.frame_locator("iframe[data-player-epub]").locator(
            "[data-reader-next]")
        for page_number in range(3, pages + 1):  # to the end of the book
            reader.click("[data-reader-next]")
            expect(reader_body).to_have_attribute("data-page", str(page_number))
        expect(next_button).to_be_disabled()
        for page_number in range(pages - 1, 0, -1):
            reader.click("[data-reader-previous]")
            expect(reader_body).to_have_attribute("data-page", str(page_number))
        reader.click("[data-reader-previous]")
        expect(reader_body).to_have_attribute("data-section", "0")

        # The keyboard turns pages too, and the table of contents jumps to a chapter.
        reader.locator("body").press("ArrowRight")
        expect(reader_body).to_have_attribute("data-section", "1")
        reader.locator("body").press("ArrowLeft")
        expect(reader_body).to_have_attribute("data-section", "0")
        reader.select_option("[data-reader-contents]", label="The Second Chapter")
        expect(reader_body).to_have_attribute("data-section", "1")
        expect(book.locator("#text")).to_have_text("And then, on page two, it ended.")

        # The book's own file came from the sandbox origin, never from the main site.
        chapter_url = reader.evaluate("document.querySelector('#book iframe')"
                                      ".contentDocument.baseURI")
        assert chapter_url.startswith(f"{zip_url}/zipcontent/")


def test_a_right_to_left_book_turns_its_pages_to_the_left(server: ServerProcess) -> None:
    from playwright.sync_api import expect

    zip_url = server.zip_url
    with watched_page(server.url, wait_ms=WAIT_MS, other_origins=[zip_url],
                      allow=[DISPLAY_OPTIONS]) as page:
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{RTL_BOOK_ID}/")
        reader = page.frame_locator("iframe[data-player-epub]")
        body = reader.locator("body")
        expect(body).to_have_attribute("data-state", "ready")
        expect(body).to_have_attribute("data-direction", "rtl")
        expect(reader.locator("[data-reader-contents] option")).to_have_text(
            ["The First Chapter", "The Second Chapter"])
        expect(body).to_have_attribute("data-section", "0")
        reader.locator(".reader__bar").click(position={"x": 2, "y": 2})  # the reader has focus
        page.keyboard.press("ArrowLeft")
        expect(body).to_have_attribute("data-section", "1")
        book = reader.frame_locator("#book iframe")
        expect(book.locator("#text")).to_have_text("الفصل الثاني")
        # Keys pressed while the chapter's frame has the focus turn pages too.
        book.locator("#text").click()
        page.keyboard.press("ArrowRight")
        expect(body).to_have_attribute("data-section", "0")


def test_a_broken_epub_says_so_and_offers_the_download(server: ServerProcess) -> None:
    from playwright.sync_api import expect

    zip_url = server.zip_url
    allow = [("GET", r"/zipcontent/[0-9a-f]{32}\.epub/META-INF/container\.xml", 404),
             DISPLAY_OPTIONS]
    with watched_page(server.url, wait_ms=WAIT_MS, other_origins=[zip_url],
                      allow=allow) as page:
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{BROKEN_BOOK_ID}/")
        reader = page.frame_locator("iframe[data-player-epub]")
        expect(reader.locator("body")).to_have_attribute("data-state", "error")
        expect(reader.locator("[data-reader-message]")).to_be_visible()
        expect(page.locator(".downloads a[download]")).to_have_count(1)


def test_an_h5p_package_plays_in_the_sandbox_without_its_origin(server: ServerProcess) -> None:
    from playwright.sync_api import expect

    zip_url = server.zip_url
    with watched_page(server.url, wait_ms=WAIT_MS, other_origins=[zip_url]) as page:
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{H5P_ID}/")
        frame_element = page.locator("iframe[data-player-h5p]")
        src = frame_element.get_attribute("src")
        assert src is not None and src.startswith(f"{zip_url}/reader/")
        assert frame_element.get_attribute("sandbox") == "allow-scripts allow-forms"
        player = page.frame_locator("iframe[data-player-h5p]")
        expect(player.locator("body")).to_have_attribute("data-state", "ready")
        expect(player.locator(".greeting__text")).to_have_text(H5P_TEXT)
        # The package's script runs, in an opaque origin, with storage that works for it.
        expect(player.locator(".greeting__storage")).to_have_text("storage: kept")
        player.locator(".greeting__button").click()
        player.locator(".greeting__button").click()
        expect(player.locator(".greeting__button")).to_have_text("Clicked 2 times")
        frame = frame_element.element_handle().content_frame()
        assert frame is not None and frame.evaluate("self.origin") == "null"
        assert page.evaluate(
            "document.querySelector('iframe[data-player-h5p]').contentDocument") is None
        expect(player.locator("body")).to_have_attribute("data-finished", "completed")
        page.screenshot(path=str(screenshot_path("h5p.png")))


def sign_in(page, server: ServerProcess) -> None:
    page.goto(f"{server.url}/login/?next=/")
    page.fill("#id_username", LEARNER[0])
    page.fill("#id_password", LEARNER[1])
    with page.expect_navigation():
        page.click("main button[type=submit]")


def test_a_finished_h5p_activity_counts_for_the_learner(server: ServerProcess) -> None:
    """The activity's own "completed" travels from the sandbox to the learner's progress."""
    from playwright.sync_api import expect

    zip_url = server.zip_url
    with watched_page(server.url, wait_ms=WAIT_MS, other_origins=[zip_url]) as page:
        sign_in(page, server)
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{H5P_ID}/")
        player = page.frame_locator("iframe[data-player-h5p]")
        expect(player.locator("body")).to_have_attribute("data-state", "ready")
        player.locator(".greeting__button").click()
        page.wait_for_timeout(500)  # one click is not done: nothing is reported
        assert page.locator("article").get_attribute("data-progress-reported") is None
        player.locator(".greeting__button").click()
        expect(page.locator("article")).to_have_attribute("data-progress-reported", "1")
        progress = page.evaluate(f"""fetch("/api/progress/?channel_id={CHANNEL_ID}")
            .then(function (answer) {{ return answer.json(); }})""")
        rows = progress["results"] if isinstance(progress, dict) else progress
        assert [(row["node_id"], row["completed"]) for row in rows] == [(H5P_ID, True)]


def test_an_h5p_package_without_its_library_says_so_and_offers_the_download(
        server: ServerProcess) -> None:
    from playwright.sync_api import expect

    zip_url = server.zip_url
    allow = [("GET", r"/zipcontent/[0-9a-f]{32}\.h5p/H5P\.KolibriLikeGreeting(-1\.0)?/"
                     r"library\.json", 404)]
    with watched_page(server.url, wait_ms=WAIT_MS, other_origins=[zip_url],
                      allow=allow) as page:
        page.goto(f"{server.url}/channels/{CHANNEL_ID}/content/{INCOMPLETE_H5P_ID}/")
        player = page.frame_locator("iframe[data-player-h5p]")
        expect(player.locator("body")).to_have_attribute("data-state", "error")
        expect(player.locator("[data-reader-message]")).to_have_text(
            "This H5P activity cannot be played here. Use the download link below the player.")
        expect(page.locator(".downloads a[download][href$='.h5p']")).to_have_count(1)
