"""A real browser builds a course in the wizard on a real server with its Huey consumer: step 1,
two videos and a PDF uploaded with our tus client while the author goes back and renames the
course, a test set (with the server's validation shown next to the answers), a reload that
resumes on the same step, publish, and the course playing with mp4, webm and ogv sources. A
second draft is cancelled and its stored file is gone. The screenshots of the four steps are
the ones in README.md (docs/screenshots/).

Debian's chromium through Playwright (never `playwright install`); every wait bounded; the
browser talks to 127.0.0.1 only.
"""

from __future__ import annotations

import re
import struct
import time
import zlib
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from media.ffmpeg import build_test_video_args, file_url, probe_media, run_ffmpeg
from tests.browser import screenshot_path, watched_page
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 30_000
ENCODE_WAIT_SECONDS = 300


def tiny_pdf(text: str, *, padding: int = 0) -> bytes:
    """A valid one-page PDF (the upload checks the bytes are a PDF); `text` makes it unique,
    `padding` bytes of a comment make it large enough to go up in several pieces."""
    stream = f"BT /F1 18 Tf 20 50 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    if padding:
        out += b"%" + b"x" * padding + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def tiny_png() -> bytes:
    """A valid 2x2 PNG (question images must be PNG, JPEG or GIF)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("wizard-media")
    found = {}
    for name, hue in (("halves.mp4", 0), ("quarters.mp4", 150)):
        found[name] = folder / name
        run_ffmpeg(build_test_video_args(found[name], container="mp4", duration=2, width=160,
                                         height=90, hue_degrees=hue), timeout=120)
    found["intro.pdf"] = folder / "intro.pdf"
    # Two pieces of the page's 8 MiB each: the second can be lost and resumed.
    found["intro.pdf"].write_bytes(tiny_pdf(f"intro {time.time_ns()}", padding=9 * 1024 * 1024))
    found["scrap.pdf"] = folder / "scrap.pdf"
    found["scrap.pdf"].write_bytes(tiny_pdf(f"scrap {time.time_ns()}", padding=9 * 1024 * 1024))
    found["fake.mp4"] = folder / "fake.mp4"
    found["fake.mp4"].write_text("This is a letter, not a video.\n" * 20)
    found["half.png"] = folder / "half.png"
    found["half.png"].write_bytes(tiny_png())
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("wizard-browser") / "server", consumer=True,
                           env={"SERVER_NAME": "School server"})
    with server:
        server.run_command("shell", "-c", (
            "from accounts.models import User; "
            "User.objects.create_user('erin', password='erin-pass', role='author')"))
        yield server


# The answers the wizard expects and shows, not failures: the server's validation of a draft's
# PATCH (the message goes next to the field) and a file whose first bytes are not what its name
# says, refused at its first chunk (the row says why).
EXPECTED_ANSWERS = [
    ("PATCH", r"/api/drafts/[0-9a-f-]{36}/", 400),
    ("PATCH", r"/api/drafts/[0-9a-f-]{36}/files/[0-9a-f-]{32,36}/", 415),
]


FILES_ROUTE = re.compile(r".*/api/drafts/[0-9a-f-]{36}/files/.*")


def drop_later_pieces(route) -> None:
    """The first piece of an upload arrives; every later one loses its connection."""
    headers = route.request.headers
    if (route.request.method == "PATCH" and headers.get("content-type")
            == "application/offset+octet-stream" and headers.get("upload-offset") != "0"):
        route.abort("connectionreset")
    else:
        route.continue_()


def wait_until(predicate, what: str, server: ServerProcess, seconds: float = ENCODE_WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {seconds}s:\n{server.output()[-4000:]}")


def saved(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("[data-save-status]")).to_have_text("All changes saved.", timeout=WAIT_MS)


def current_step(page) -> str:
    return page.locator(".stepper__step[aria-current=step]").inner_text()


def files_of_draft(page) -> list[dict]:
    return page.evaluate("""async () => {
        const url = document.querySelector('[data-wizard]').getAttribute('data-files-url');
        return (await (await fetch(url, {credentials: 'same-origin'})).json()).results;
    }""")


def sign_in(page, server: ServerProcess) -> None:
    page.goto(server.url + "/login/?next=/author/")
    page.fill("input[name=username]", "erin")
    page.fill("input[name=password]", "erin-pass")
    page.click("form.form button[type=submit]")
    page.wait_for_url(server.url + "/author/")


def start_course(page, server: ServerProcess) -> None:
    page.get_by_role("button", name="New course").click()
    page.wait_for_url(re.compile(re.escape(server.url) + r"/author/drafts/[0-9a-f-]{36}/$"))
    assert current_step(page).endswith("Basic information")


@pytest.fixture
def expect() -> Iterator[Any]:
    """Playwright's expect, waiting up to WAIT_MS (not 5 s): uploads and encodes run on a
    machine shared with other tests."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=WAIT_MS)
    try:
        yield playwright_expect
    finally:
        playwright_expect.set_options(timeout=5_000)


def test_an_author_builds_publishes_and_cancels_a_course(server, media_files, tmp_path, expect):
    # No request to another host, no 4xx/5xx but the expected ones, no script error.
    with watched_page(server.url, wait_ms=WAIT_MS, allow=EXPECTED_ANSWERS) as page:
        sign_in(page, server)
        start_course(page, server)

        # Step 1: every field saves itself as the author types.
        page.get_by_label("Course name").fill("Fractions")
        page.get_by_label("Version label").fill("spring term")
        page.get_by_label("Short description").fill("Halves and quarters, with a short test.")
        page.get_by_label("Topics taught").fill("Halves\nQuarters")
        saved(page)
        expect(page.locator("h1")).to_have_text("Fractions")
        page.screenshot(path=str(screenshot_path("wizard-1-basics.png")), full_page=True)

        # Step 2: three files at once, uploading in the background. The PDF is two pieces and
        # its second one keeps losing its connection: the tus client retries, asking the
        # server where the upload is, while the author goes back to step 1.
        page.get_by_role("button", name="Next: files").click()
        assert current_step(page).endswith("Files")
        page.route(FILES_ROUTE, drop_later_pieces)
        page.get_by_label("Add files").set_input_files(
            [str(media_files[name]) for name in ("halves.mp4", "quarters.mp4", "intro.pdf")])
        rows = page.locator("[data-file-row]")
        expect(rows).to_have_count(3)
        for name, description, topic in (("halves.mp4", "What a half is", "Halves"),
                                         ("quarters.mp4", "Quarters of a cake", "Quarters"),
                                         ("intro.pdf", "Read me first", "")):
            row = rows.filter(has_text=name)
            row.get_by_label("Description").fill(description)
            if topic:
                row.get_by_label("Topic").select_option(topic)
        pdf_row = rows.filter(has_text="intro.pdf")
        expect(pdf_row.locator("[data-file-error]")).to_contain_text("Trying again")

        # Back to step 1 while the PDF uploads and the videos encode: both carry on.
        page.get_by_role("button", name="1 Basic information").click()
        page.get_by_label("Course name").fill("Fractions for beginners")
        saved(page)
        page.get_by_role("button", name="2 Files").click()
        expect(pdf_row.locator("[data-file-state]")).to_have_text(re.compile(r"^Uploading 8\d%$"))
        page.unroute(FILES_ROUTE, drop_later_pieces)
        expect(pdf_row.locator("[data-file-state]")).to_have_text("Finished", timeout=WAIT_MS)
        expect(pdf_row.locator("[data-file-error]")).to_be_hidden()
        files_step = page.locator(".stepper__step[data-goto='2']")
        expect(files_step).to_have_accessible_name("2 Files")
        for name in ("halves.mp4", "quarters.mp4"):
            expect(rows.filter(has_text=name).locator("[data-file-state]")).to_have_text(
                re.compile(r"^(Processing \d+%|Finished \(mp4, ogv, webm\))$"), timeout=WAIT_MS)
        # The order is the author's: the PDF to the bottom, then to the top. (The uploads
        # ran at once, so the first order is whichever was created first.)
        for button, end in (("Move down", rows.last), ("Move up", rows.first)):
            for _ in range(2):
                if pdf_row.get_by_role("button", name=button).is_enabled():
                    pdf_row.get_by_role("button", name=button).click()
            expect(end).to_contain_text("intro.pdf")
            expect(pdf_row.get_by_role("button", name=button)).to_be_disabled()
        saved(page)
        page.screenshot(path=str(screenshot_path("wizard-2-files.png")), full_page=True)
        by_name = {item["name"]: item for item in files_of_draft(page)}
        assert by_name["intro.pdf"]["position"] == 0
        assert by_name["halves.mp4"]["description"] == "What a half is"
        assert by_name["quarters.mp4"]["topic"] == "Quarters"

        # Step 3: a single-choice question; two answers marked right is refused by the server,
        # and its message shows next to the answers until the author fixes it.
        page.get_by_role("button", name="Next: test sets").click()
        page.get_by_role("button", name="Add a test set").click()
        page.get_by_label("Title", exact=True).fill("Check your halves")
        page.get_by_label("Pass mark").fill("50")
        page.get_by_label("Show questions").select_option("one")
        page.get_by_label("Question text").fill("Which is one half?")
        page.get_by_label("Image of question 1").set_input_files(str(media_files["half.png"]))
        expect(page.locator("[data-image-status]")).to_contain_text("half.png · Finished")
        page.get_by_label("Answer 1", exact=True).fill("1/2")
        page.get_by_label("Answer 2", exact=True).fill("1/3")
        # By keyboard: a new answer takes the focus; removing it gives it to "Add an answer".
        page.get_by_role("button", name="Add an answer").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_label("Answer 3", exact=True)).to_be_focused()
        page.get_by_role("button", name="Remove answer 3").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Add an answer")).to_be_focused()
        right = page.get_by_label("Right answer", exact=True)
        right.nth(0).check()
        right.nth(1).check()
        answers_error = page.locator('[data-error-for="test_sets.0.questions.0.answers"]')
        expect(answers_error).to_contain_text("exactly one answer correct", timeout=WAIT_MS)
        tests_step = page.locator(".stepper__step[data-goto='3']")
        expect(tests_step).to_have_accessible_name("3 Test sets (needs a change)")
        right.nth(1).uncheck()
        saved(page)
        expect(answers_error).to_be_hidden()
        expect(tests_step).to_have_accessible_name("3 Test sets")
        page.get_by_label("Completing the course also needs every video watched").check()
        saved(page)
        page.screenshot(path=str(screenshot_path("wizard-3-tests.png")), full_page=True)

        # A reload resumes on the same step with everything typed.
        page.reload()
        assert current_step(page).endswith("Test sets")
        expect(page.get_by_label("Title", exact=True)).to_have_value("Check your halves")
        expect(page.get_by_label("Answer 1", exact=True)).to_have_value("1/2")
        expect(page.get_by_label("Pass mark")).to_have_value("50")
        expect(page.locator("[data-image-status]")).to_contain_text("half.png · Finished")
        expect(page.get_by_label("Course name")).to_have_value("Fractions for beginners")
        expect(page.get_by_label("Topics taught")).to_have_value("Halves\nQuarters")
        expect(page.locator("[data-file-row]")).to_have_count(3)

        # Step 4: the overview, then publish (with its confirmation).
        page.get_by_role("button", name="Next: overview").click()
        overview = page.locator("[data-overview]")
        expect(overview).to_contain_text("Fractions for beginners")
        expect(overview).to_contain_text("Check your halves · 1 question · pass mark 50%")
        expect(page.locator("[data-problems]")).to_be_hidden()
        page.screenshot(path=str(screenshot_path("wizard-4-confirm.png")), full_page=True)
        page.get_by_role("button", name="Publish").click()
        page.get_by_role("dialog").get_by_role("button", name="Yes, publish").click()
        course_link = page.get_by_role("link", name="Open the course as learners see it")
        expect(course_link).to_be_visible()
        expect(page.locator("[data-publish-result]")).to_contain_text("Published as version")
        channel_id = course_link.get_attribute("href").strip("/").split("/")[-1]
        # The published draft, opened again, says so and can no longer change.
        page.reload()
        expect(page.locator("[data-publish-result]")).to_contain_text(
            "This draft was published as version")
        expect(page.get_by_label("Course name")).to_be_disabled()
        expect(page.get_by_role("button", name="Cancel draft")).to_be_hidden()

        # Videos published while encoding join the course by themselves.
        def videos_with_every_format():
            answer = requests.get(f"{server.url}/api/content/{channel_id}/contentnode/",
                                  params={"kind": "video"}, timeout=10)
            if answer.status_code != 200:
                return None
            nodes = answer.json()["results"]
            ready = [node for node in nodes if node["available"] and {"mp4", "webm", "ogv"}
                     <= {item["extension"] for item in node["files"]}]
            return ready if len(ready) == 2 else None

        videos = wait_until(videos_with_every_format, "both videos in the course", server)
        course_link.click()
        page.wait_for_url(f"{server.url}/channels/{channel_id}/")
        expect(page.locator("main")).to_contain_text("Fractions for beginners")

        page.goto(f"{server.url}/channels/{channel_id}/content/{videos[0]['id']}/")
        sources = page.locator("video source")
        assert [sources.nth(index).get_attribute("type").split(";")[0]
                for index in range(sources.count())] == ["video/mp4", "video/webm", "video/ogg"]
        page.evaluate("() => { const video = document.querySelector('video');"
                      " video.muted = true; return video.play(); }")
        page.wait_for_function("document.querySelector('video').currentTime > 0.3",
                               timeout=WAIT_MS)
        ogv_url = sources.nth(2).get_attribute("src")
        ogv = tmp_path / "course.ogv"
        ogv.write_bytes(requests.get(server.url + ogv_url, timeout=30).content)
        run_ffmpeg(["-v", "error", "-i", file_url(ogv), "-f", "null", "-"], timeout=120)
        assert "theora" in [stream.codec for stream in probe_media(ogv).streams]

        # A second draft: upload a file, then cancel; its stored file goes at once.
        page.goto(server.url + "/author/")
        expect(page.locator("main")).to_contain_text("Fractions for beginners")
        page.screenshot(path=str(screenshot_path("my-courses.png")), full_page=True)
        # The published course's card links to its learners' progress report.
        progress = page.get_by_role("link", name="Learners' progress in Fractions for beginners")
        expect(progress).to_have_attribute("href", f"/author/courses/{channel_id}/progress/")
        progress.click()
        page.wait_for_url(f"{server.url}/author/courses/{channel_id}/progress/")
        page.goto(server.url + "/author/")
        # On a phone the header's search box and an author's six links wrap onto more rows:
        # nothing pushes the page sideways.
        page.set_viewport_size({"width": 375, "height": 800})
        expect(page.get_by_role("link", name="My certificates")).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.set_viewport_size({"width": 1280, "height": 900})
        start_course(page, server)
        # Nothing to publish yet: step 4 says what is missing and Publish is off.
        page.get_by_role("button", name="4 Overview and confirm").click()
        expect(page.locator("[data-problems]")).to_contain_text("a course needs a name")
        expect(page.locator("[data-problems]")).to_contain_text("add at least one file")
        expect(page.get_by_role("button", name="Publish")).to_be_disabled()
        page.get_by_role("button", name="1 Basic information").click()
        page.get_by_label("Course name").fill("Scrap")
        page.get_by_role("button", name="Next: files").click()
        # The first 8 MiB arrive, then the connection keeps failing and the author reloads:
        # the row says the upload stopped where it was; choosing the file again continues
        # the same upload from there (the tus URL was remembered): no second file appears.
        page.route(FILES_ROUTE, drop_later_pieces)
        page.get_by_label("Add files").set_input_files(str(media_files["scrap.pdf"]))
        expect(page.locator("[data-file-row] [data-file-error]")).to_contain_text("Trying again")
        page.on("dialog", lambda dialog: dialog.accept())   # "leave while uploading?"
        page.reload()
        page.unroute(FILES_ROUTE, drop_later_pieces)
        stalled = page.locator("[data-file-row]")
        expect(stalled).to_have_count(1)
        expect(stalled.locator("[data-file-state]")).to_have_text("Uploading 88%")
        expect(stalled.locator("[data-file-resume]")).to_be_visible()
        stalled.get_by_label("Choose the same file again").set_input_files(
            str(media_files["scrap.pdf"]))
        expect(page.locator("[data-file-row] [data-file-state]")).to_have_text("Finished")
        expect(page.locator("[data-file-row]")).to_have_count(1)
        assert len(files_of_draft(page)) == 1
        checksum = files_of_draft(page)[0]["checksum"]
        # A "video" that is text: refused with the reason shown in its row, then removed.
        page.get_by_label("Add files").set_input_files(str(media_files["fake.mp4"]))
        fake = page.locator("[data-file-row]", has_text="fake.mp4")
        expect(fake.locator("[data-file-state]")).to_have_text("Error")
        expect(fake.locator("[data-file-error]")).not_to_be_empty()
        files_step = page.locator(".stepper__step[data-goto='2']")
        expect(files_step).to_have_accessible_name("2 Files (needs a change)")
        fake.get_by_role("button", name="Remove").click()
        expect(page.locator("[data-file-row]")).to_have_count(1)
        expect(files_step).to_have_accessible_name("2 Files")
        assert [item["name"] for item in files_of_draft(page)] == ["scrap.pdf"]
        stored = server.content_dir / "storage" / checksum[0] / checksum[1] / f"{checksum}.pdf"
        assert stored.is_file()
        # Escape closes the confirmation and nothing happens; then confirm for real.
        page.get_by_role("button", name="Cancel draft").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_be_hidden()
        expect(page.get_by_role("button", name="Cancel draft")).to_be_focused()
        assert stored.is_file()
        page.get_by_role("button", name="Cancel draft").click()
        page.get_by_role("dialog").get_by_role("button", name="Yes, cancel the draft").click()
        page.wait_for_url(server.url + "/author/")
        assert not stored.exists()
        assert "Scrap" not in page.locator("main").inner_text()

        # Editing the course opens a draft of its next version with everything in it;
        # cancelling that draft keeps every file the published version uses.
        page.get_by_role("button", name="Edit (new version)").click()
        page.wait_for_url(re.compile(re.escape(server.url) + r"/author/drafts/[0-9a-f-]{36}/$"))
        expect(page.get_by_label("Course name")).to_have_value("Fractions for beginners")
        page.get_by_role("button", name="2 Files").click()
        expect(page.locator("[data-file-row]")).to_have_count(3)
        kept = [server.content_dir / "storage" / item["checksum"][0] / item["checksum"][1]
                / f"{item['checksum']}.{item['extension']}" for item in files_of_draft(page)
                if item["extension"] == "pdf"]
        page.get_by_role("button", name="Cancel draft").click()
        page.get_by_role("dialog").get_by_role("button", name="Yes, cancel the draft").click()
        page.wait_for_url(server.url + "/author/")
        assert kept and all(path.is_file() for path in kept)
        assert requests.get(f"{server.url}/channels/{channel_id}/content/{videos[0]['id']}/",
                            timeout=10).status_code == 200
