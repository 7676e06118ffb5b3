"""A real browser, a real server with its Huey consumer: a learner signs in, watches a course's
video to the end, takes its test (wrong, then right), completes the course, and downloads the
certificate PDF from My certificates.

The course is built inside the server (`kolibri-like shell`) with channels.builder, a 2 s mp4
made by ffmpeg now, and the test set's exercise file as the wizard makes it
(tests/frontend/test_learner_pages.py:build_learner_course). The screenshots are the ones in
docs/screenshots/ (learner-test.png, learner-courses.png, learner-certificates.png).

Debian's chromium through Playwright (never `playwright install`); every wait is bounded; the
browser talks to 127.0.0.1 only and gets no error status (tests/browser.py).
"""

from __future__ import annotations

import io
import json
import re
from typing import Iterator

import pytest

from media.ffmpeg import build_test_video_args, run_ffmpeg
from tests.browser import screenshot_path, watched_page
from tests.frontend.test_learner_pages import (
    COURSE_ID,
    DOCUMENT_ID,
    QUIZ_COURSE_ID,
    QUIZ_ID,
    TEST_ID,
    VIDEO_ID,
)
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT_MS = 30_000
# The certificate is rendered by the consumer; the page polls 15 times, 2 s apart.
CERTIFICATE_WAIT_MS = 45_000
LEARNER = ("lena", "lena-pass", "Lena", "Lernova")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("learner-browser")
    video = folder / "meet-the-cat.mp4"
    run_ffmpeg(build_test_video_args(video, container="mp4", duration=2, width=160, height=90),
               timeout=120)
    server = ServerProcess(folder / "server", consumer=True,
                           env={"SERVER_NAME": "School server"})
    username, password, first_name, last_name = LEARNER
    # `start` migrates; a course built while it runs is served without a restart (publish).
    with server:
        server.run_command("shell", "-c", (
            "from accounts.models import User; "
            f"User.objects.create_user({username!r}, password={password!r}, role='learner', "
            f"first_name={first_name!r}, last_name={last_name!r})"))
        built = server.run_command("shell", "-c", (
            "from tests.frontend.test_learner_pages import build_learner_course; "
            f"build_learner_course({str(video)!r})"))
        assert json.loads(built.stdout.strip().splitlines()[-1])["channel_id"] == COURSE_ID
        server.run_command("shell", "-c", (
            "from tests.frontend.test_learner_pages import build_quiz_course; "
            f"build_quiz_course({str(video)!r})"))
        yield server


def sign_in(page, server: ServerProcess) -> None:
    username, password, _, _ = LEARNER
    page.goto(f"{server.url}/login/?next=/learn/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.url == f"{server.url}/learn/", page.inner_text("main")


def answer(page, *choices: str) -> None:
    """Tick the choices (by their label text) of the question on screen."""
    question = page.locator(".question:visible")
    for choice in choices:
        question.get_by_label(choice, exact=True).check()


def watch_the_video(page, server: ServerProcess) -> None:
    page.goto(f"{server.url}/channels/{COURSE_ID}/content/{VIDEO_ID}/")
    play = """async () => {
        const video = document.querySelector("video");
        video.muted = true;
        await video.play();
    }"""
    # A pause reports how far it got: part of the video, not yet all of it. The page pauses
    # itself at the first timeupdate past 0.6 s, so a slow test machine cannot overshoot.
    page.evaluate("""() => new Promise(resolve => {
        const video = document.querySelector("video");
        video.addEventListener("timeupdate", function pauseEarly() {
            if (video.currentTime > 0.6) {
                video.removeEventListener("timeupdate", pauseEarly);
                video.pause();
                resolve(video.currentTime);
            }
        });
        video.muted = true;
        video.play();
    })""")
    page.wait_for_selector("article[data-progress-reported]", timeout=WAIT_MS)
    paused_at = float(page.locator("article").get_attribute("data-progress-reported"))
    assert 0.2 < paused_at < 1
    page.wait_for_selector(".progress-status:not([hidden])", timeout=WAIT_MS)
    assert page.locator(".progress-status").inner_text().startswith("In progress: ")
    page.evaluate(play)
    page.wait_for_function("document.querySelector('video').ended", timeout=WAIT_MS)
    # player.js reported the whole video, and the server said the node is completed.
    page.wait_for_selector('article[data-progress-reported="1"]', timeout=WAIT_MS)
    page.wait_for_selector(".progress-status--done", timeout=WAIT_MS)
    assert page.locator(".progress-status").inner_text() == "\u2713 Done"


def take_the_test(page, server: ServerProcess) -> None:
    page.goto(f"{server.url}/channels/{COURSE_ID}/content/{TEST_ID}/")
    page.wait_for_selector(".question", timeout=WAIT_MS)
    assert "2 questions. Pass mark: 100%. Attempts left: 3 of 3." in \
        page.locator("[data-test-info]").inner_text()
    # One question at a time: the first, with its picture, as radio buttons in a fieldset.
    assert page.locator(".question:visible").count() == 1
    assert page.locator("[data-step-indicator]").inner_text() == "Question 1 of 2"
    first = page.locator("fieldset.question:visible")
    assert "Which one is a cat? $x^2$" in first.locator("legend").inner_text()
    first.locator("img.question__image").wait_for()
    assert first.locator("input[type=radio]").count() == 2
    assert page.evaluate(
        "document.querySelector('fieldset.question:not([hidden]) img').naturalWidth") == 1

    # Wrong: the trout, and only one of the two even numbers.
    answer(page, "A trout")
    page.get_by_role("button", name="Next").click()
    assert page.locator("[data-step-indicator]").inner_text() == "Question 2 of 2"
    assert page.locator("fieldset.question:visible input[type=checkbox]").count() == 3
    answer(page, "2")
    page.get_by_role("button", name="Submit answers").click()
    result = page.locator('[data-test-result="failed"]')
    result.wait_for(timeout=WAIT_MS)
    assert "You did not pass this time." in result.inner_text()
    assert "Your score: 0% (0 of 2 questions right)." in result.inner_text()
    assert "Attempts left: 2 of 3." in result.inner_text()

    # Right, after "Try again": previous/next keep the answers given.
    page.get_by_role("button", name="Try again").click()
    answer(page, "Tom")
    page.get_by_role("button", name="Next").click()
    answer(page, "2", "4")
    page.get_by_role("button", name="Previous").click()
    assert page.locator("fieldset.question:visible").get_by_label("Tom", exact=True).is_checked()
    page.get_by_role("button", name="Next").click()
    page.screenshot(path=str(screenshot_path("learner-test.png")), full_page=True)
    page.get_by_role("button", name="Submit answers").click()
    result = page.locator('[data-test-result="passed"]')
    result.wait_for(timeout=WAIT_MS)
    assert "You passed this test." in result.inner_text()
    assert "Your score: 100% (2 of 2 questions right)." in result.inner_text()
    assert "Try again" not in result.inner_text()

    # The last test passed with the video watched: the course is complete.
    page.wait_for_selector("[data-course-complete]", timeout=WAIT_MS)
    assert "You have completed the course \u201cPets and numbers\u201d." in \
        page.locator("[data-course-complete]").inner_text()
    page.wait_for_selector('[data-certificate-state="ready"]', timeout=CERTIFICATE_WAIT_MS)
    assert "Attempts left: 1 of 3." in page.locator("[data-test-info]").inner_text()


def take_the_quiz(page, server: ServerProcess) -> None:
    """All questions on one page, one of them a kind we cannot show; the keyboard answers."""
    page.goto(f"{server.url}/channels/{QUIZ_COURSE_ID}/content/{QUIZ_ID}/")
    page.wait_for_selector(".question", timeout=WAIT_MS)
    assert page.locator(".question:visible").count() == 2
    assert page.locator("[data-step-indicator]").count() == 0
    assert "You may try this test as many times as you like." in \
        page.locator("[data-test-info]").inner_text()
    unsupported = page.locator(".question--unsupported")
    assert "This question type cannot be shown here; it is not counted." in \
        unsupported.inner_text()
    assert unsupported.locator("input").count() == 0

    # Nothing answered: one warning first, then "Submit anyway" would send it.
    page.get_by_role("button", name="Submit answers").click()
    assert "Not answered yet: question 1." in page.locator("[data-test-status]").inner_text()
    assert page.get_by_role("button", name="Submit anyway").is_visible()
    page.locator("fieldset.question input[type=radio]").first.focus()
    page.keyboard.press("Space")
    assert page.get_by_label("Paris", exact=True).is_checked()
    page.get_by_role("button", name="Submit answers").click()
    result = page.locator('[data-test-result="passed"]')
    result.wait_for(timeout=WAIT_MS)
    assert "Your score: 100% (1 of 1 question right)." in result.inner_text()
    assert "Try again" not in result.inner_text()


def test_a_learner_watches_passes_the_test_and_downloads_the_certificate(server, tmp_path):
    from pypdf import PdfReader

    with watched_page(server.url, wait_ms=WAIT_MS) as page:
        script_errors: list[str] = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        sign_in(page, server)
        assert "You have not started a course yet" in page.inner_text("main")

        watch_the_video(page, server)
        page.goto(f"{server.url}/channels/{COURSE_ID}/")
        page.wait_for_selector("[data-progress-loaded]", timeout=WAIT_MS)
        assert page.locator("[data-course-text]").inner_text() == \
            "Course progress: 1 of 3 done \u00b7 tests passed: 0 of 1"
        assert page.locator(f'[data-node-id="{VIDEO_ID}"] .done-mark').inner_text() == \
            "\u2713 Done"
        assert page.locator(f'[data-node-id="{DOCUMENT_ID}"] .done-mark').count() == 0

        take_the_test(page, server)

        page.get_by_role("link", name="Go to My certificates").click()
        page.wait_for_url(f"{server.url}/learn/certificates/")
        row = page.locator("tr[data-certificate]")
        assert row.count() == 1
        text = row.inner_text()
        assert "Pets and numbers" in text and "1 (spring term)" in text
        code = row.locator("code").inner_text()
        assert re.fullmatch(r"[0-9A-Za-z-]{6,32}", code)
        page.screenshot(path=str(screenshot_path("learner-certificates.png")), full_page=True)

        with page.expect_download(timeout=WAIT_MS) as download_info:
            row.get_by_role("link", name=re.compile("^Download PDF")).click()
        saved = tmp_path / "certificate.pdf"
        download_info.value.save_as(saved)
        data = saved.read_bytes()
        assert data.startswith(b"%PDF")
        pdf_text = " ".join(page_of.extract_text() for page_of in PdfReader(io.BytesIO(data)).pages)
        assert "Lena Lernova" in pdf_text and "Pets and numbers" in pdf_text
        assert code in pdf_text

        # A second course: its test passed, but its required video is not watched yet.
        take_the_quiz(page, server)

        page.goto(f"{server.url}/learn/")
        course = page.locator(f'[data-course="{COURSE_ID}"]')
        assert "Completed" in course.inner_text()
        assert "2 of 3 done (67%)" in course.inner_text()
        quiz = page.locator(f'[data-course="{QUIZ_COURSE_ID}"]')
        assert "Completed" not in quiz.inner_text()
        assert "1 of 2 done (50%) \u00b7 tests passed: 1 of 1" in quiz.inner_text()
        assert quiz.get_by_role("link", name="Continue").get_attribute("href") == \
            f"/channels/{QUIZ_COURSE_ID}/"
        page.screenshot(path=str(screenshot_path("learner-courses.png")), full_page=True)

        # The verify link on My certificates answers for this code.
        page.goto(f"{server.url}/learn/certificates/")
        page.get_by_role("link", name="Verify").click()
        page.wait_for_url(f"{server.url}/certificates/verify/{code}/")
        assert "Pets and numbers" in page.inner_text("body")
        assert script_errors == []
