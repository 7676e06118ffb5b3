"""The learner's own pages and the learning parts of the course pages, through Django's test
client, on a course built for real (channels.builder, and the exercise file the wizard makes).

`build_learner_course` is also what the browser test runs inside its server (`kolibri-like shell`).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from channels.builder import BuildResult, ChannelSpec, FileSpec, NodeSpec, build_channel

pytestmark = pytest.mark.django_db

COURSE_ID = "20000000000000000000000000000000"
ROOT_ID = "20000000000000000000000000000001"
VIDEO_ID = "20000000000000000000000000000002"
TEST_ID = "20000000000000000000000000000003"
DOCUMENT_ID = "20000000000000000000000000000004"
CAT_QUESTION_ID = "20000000000000000000000000000005"
EVEN_QUESTION_ID = "20000000000000000000000000000006"

# A 1x1 PNG, the picture of the first question.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc000000301010018dd8db40000000049454e44ae426082")


def learner_test_set(*, display: str = "one", max_attempts: int = 3) -> dict[str, object]:
    """A clean test set as step 3 of the wizard leaves it: a single-choice question with a
    picture (right answer: the first) and a multiple-choice one (right: the first two)."""
    return {
        "id": TEST_ID, "title": "Animals and numbers", "pass_mark": 1, "display": display,
        "max_attempts": max_attempts, "topic": "",
        "questions": [
            {"id": CAT_QUESTION_ID, "text": "Which one is a cat? $x^2$", "multiple": False,
             "image": "cat-picture",
             "answers": [{"text": "Tom", "correct": True, "image": None},
                         {"text": "A trout", "correct": False, "image": None}]},
            {"id": EVEN_QUESTION_ID, "text": "Which numbers are even?", "multiple": True,
             "image": None,
             "answers": [{"text": "2", "correct": True, "image": None},
                         {"text": "4", "correct": True, "image": None},
                         {"text": "5", "correct": False, "image": None}]},
        ],
    }


def build_learner_course(video: str | bytes = b"not really an mp4", *, display: str = "one",
                         max_attempts: int = 3, require_videos: bool = True,
                         name: str = "Pets and numbers") -> BuildResult:
    """A course of one video, one document and one test; prints its ids as JSON (for the shell).

    `video`: the mp4's bytes, or a path to it (the browser test generates a real one).
    """
    from authoring.testsets import build_exercise_file, exercise_options

    test_set = learner_test_set(display=display, max_attempts=max_attempts)
    exercise_bytes = build_exercise_file(test_set, image_loader=lambda file_id: (PNG_BYTES, "png"))
    video_source = Path(video) if isinstance(video, str) else video
    root = NodeSpec(
        id=ROOT_ID, title=name, kind="topic",
        options={"kolibri_like_course": {"require_videos": require_videos,
                                         "version_label": "spring term", "topics": []}},
        children=[
            NodeSpec(id=VIDEO_ID, title="Meet the cat", kind="video",
                     files=[FileSpec(preset="high_res_video", extension="mp4",
                                     source=video_source)]),
            NodeSpec(id=DOCUMENT_ID, title="Cat facts", kind="document",
                     files=[FileSpec(preset="document", extension="pdf",
                                     source=b"%PDF-1.4 cat facts\n")]),
            NodeSpec(id=TEST_ID, title=str(test_set["title"]), kind="exercise",
                     options=exercise_options(test_set),
                     files=[FileSpec(preset="exercise", extension="perseus",
                                     source=exercise_bytes)]),
        ])
    result = build_channel(ChannelSpec(name=name, id=COURSE_ID, root=root,
                                       version_label="spring term"))
    print(json.dumps({"channel_id": result.channel_id, "video_id": VIDEO_ID,
                      "test_id": TEST_ID, "document_id": DOCUMENT_ID}))
    return result


QUIZ_COURSE_ID = "21000000000000000000000000000000"
QUIZ_ROOT_ID = "21000000000000000000000000000001"
QUIZ_VIDEO_ID = "21000000000000000000000000000002"
QUIZ_ID = "21000000000000000000000000000003"


def kolibri_quiz_file() -> bytes:
    """A `.perseus` file as Kolibri channels carry them: a radio question (right: "Paris") and
    a numeric-input question, which our player cannot show."""
    radio = {"question": {
        "content": "What is the capital of France?\n\n[[\u2603 radio 1]]", "images": {},
        "widgets": {"radio 1": {"type": "radio", "options": {
            "choices": [{"content": "Paris", "correct": True},
                        {"content": "Lyon", "correct": False}],
            "randomize": False, "multipleSelect": False}}}},
        "answerArea": {}, "hints": []}
    numeric = {"question": {
        "content": "How much is 6 times 7? [[\u2603 numeric-input 1]]", "images": {},
        "widgets": {"numeric-input 1": {"type": "numeric-input",
                                        "options": {"answers": [{"value": 42}]}}}},
        "answerArea": {}, "hints": []}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("exercise.json", json.dumps({
            "all_assessment_items": ["capital", "times"],
            "mastery_model": {"type": "m_of_n", "m": 1, "n": 2}}))
        archive.writestr("capital.json", json.dumps(radio))
        archive.writestr("times.json", json.dumps(numeric))
    return buffer.getvalue()


def build_quiz_course(video: str | bytes = b"not really an mp4") -> BuildResult:
    """A second course: a video the author requires and an all-on-one-page test with a question
    we cannot show and unlimited attempts. Passing the test does not complete it (the video)."""
    quiz_options = {"kolibri_like_test": {"pass_mark": 1, "display": "all",
                                          "max_attempts": None}}
    root = NodeSpec(
        id=QUIZ_ROOT_ID, title="Geography quiz", kind="topic",
        options={"kolibri_like_course": {"require_videos": True, "version_label": "",
                                         "topics": []}},
        children=[
            NodeSpec(id=QUIZ_VIDEO_ID, title="A trip to France", kind="video",
                     files=[FileSpec(preset="high_res_video", extension="mp4",
                                     source=Path(video) if isinstance(video, str) else video)]),
            NodeSpec(id=QUIZ_ID, title="Capitals", kind="exercise", options=quiz_options,
                     files=[FileSpec(preset="exercise", extension="perseus",
                                     source=kolibri_quiz_file())]),
        ])
    result = build_channel(ChannelSpec(name="Geography quiz", id=QUIZ_COURSE_ID, root=root))
    print(json.dumps({"channel_id": result.channel_id, "quiz_id": QUIZ_ID}))
    return result


def page_text(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


@pytest.fixture
def course() -> BuildResult:
    return build_learner_course()


def content_url(node_id: str) -> str:
    return f"/channels/{COURSE_ID}/content/{node_id}/"


# -- The test page ------------------------------------------------------------------------------

def test_a_guest_is_asked_to_sign_in_to_take_a_test(client, course):
    html = page_text(client.get(content_url(TEST_ID)))
    assert "Sign in to take this test" in html
    assert (f'href="/login/?next=/channels/{COURSE_ID}/content/{TEST_ID}/">Sign in to take '
            "this test</a>") in html
    assert "data-test-player" not in html
    assert "test_player.js" not in html
    # Guests report no progress: there is none to keep without an account.
    assert "data-progress-report-url" not in html


def test_a_learner_gets_the_test_player_wired_to_the_questions_api(client, course, learner_user):
    client.force_login(learner_user)
    html = page_text(client.get(content_url(TEST_ID)))
    assert "Sign in to take this test" not in html
    player = re.search(r"<section class=\"test-player\"[^>]*>", html, re.S).group(0)
    questions_url = re.search(r'data-questions-url="([^"]+)"', player).group(1)
    assert questions_url == f"/api/content/{COURSE_ID}/contentnode/{TEST_ID}/questions/"
    assert 'data-attempts-url="/api/attempts/"' in player
    assert f'data-progress-url="/api/progress/?channel_id={COURSE_ID}"' in player
    assert 'data-certificates-url="/api/certificates/"' in player
    assert 'data-my-certificates-url="/learn/certificates/"' in player
    assert re.search(r'<script src="/static/frontend/test_player\.js[^"]*" defer>', html)
    # The exercise is played, not offered as a file to download.
    assert "cannot play here yet" not in html
    # What test_player.js gets from that URL: the questions in order, never their answers.
    data = client.get(questions_url).json()
    assert (data["display"], data["max_attempts"], data["attempts_used"]) == ("one", 3, 0)
    assert [question["id"] for question in data["questions"]] == [CAT_QUESTION_ID,
                                                                  EVEN_QUESTION_ID]
    assert "correct" not in json.dumps(data)
    assert client.get(data["questions"][0]["image"]).content == PNG_BYTES


# -- Progress reporting and display ---------------------------------------------------------------

def test_a_learners_video_and_document_pages_report_progress(client, course, learner_user):
    client.force_login(learner_user)
    for node_id, kind in ((VIDEO_ID, "video"), (DOCUMENT_ID, "document")):
        html = page_text(client.get(content_url(node_id)))
        article = re.search(r"<article[^>]*>", html, re.S).group(0)
        assert 'data-progress-report-url="/api/progress/"' in article
        assert f'data-channel-id="{COURSE_ID}"' in article
        assert f'data-node-id="{node_id}"' in article and f'data-kind="{kind}"' in article
        assert re.search(r'<script src="/static/frontend/player\.js[^"]*" defer>', html)
        assert re.search(r'<script src="/static/frontend/progress\.js[^"]*" defer>', html)
        assert f'data-progress-node="{node_id}"' in html
    # What player.js sends, as a document page does on opening: the node counts as done.
    response = client.post("/api/progress/", {"channel_id": COURSE_ID, "node_id": DOCUMENT_ID,
                                              "progress": 1, "ended": False},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["completed"] is True


def test_the_course_page_asks_for_progress_once_and_marks_each_card(client, course,
                                                                   learner_user):
    client.force_login(learner_user)
    html = page_text(client.get(f"/channels/{COURSE_ID}/"))
    # One progress URL for the whole page; each card carries its node id for the check mark.
    assert html.count("data-progress-url=") == 1
    progress_url = re.search(r'data-progress-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert progress_url == f"/api/progress/?channel_id={COURSE_ID}&page_size=1000"
    for node_id in (VIDEO_ID, DOCUMENT_ID, TEST_ID):
        assert f'data-node-id="{node_id}"' in html
    assert "data-course-bar" in html and "data-course-text" in html
    # What progress.js reads from that one request: the nodes done and the course's summary.
    client.post("/api/progress/", {"channel_id": COURSE_ID, "node_id": DOCUMENT_ID,
                                   "progress": 1}, content_type="application/json")
    data = client.get(progress_url).json()
    assert [(row["node_id"], row["completed"]) for row in data["results"]] == [
        (DOCUMENT_ID, True)]
    [summary] = data["courses"]
    assert (summary["completed_resources"], summary["total_resources"]) == (1, 3)


def test_guests_get_no_progress_widgets_on_course_pages(client, course):
    html = page_text(client.get(f"/channels/{COURSE_ID}/"))
    assert "data-progress-url" not in html and "progress.js" not in html
    html = page_text(client.get(content_url(VIDEO_ID)))
    assert "data-progress-url" not in html and "progress.js" not in html
    assert "player.js" in html  # the player itself still works for guests


# -- My courses and My certificates ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/learn/", "/learn/certificates/"])
def test_the_learners_own_pages_need_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_the_header_links_my_courses_and_my_certificates_for_signed_in_users(
        client, learner_user):
    assert 'href="/learn/"' not in page_text(client.get("/"))
    client.force_login(learner_user)
    html = page_text(client.get("/"))
    assert '<a class="account__learning" href="/learn/">My courses</a>' in html
    assert '<a class="account__certificates" href="/learn/certificates/">My certificates</a>' \
        in html


def make_certificate(user, *, code: str, state: str = "ready", course_name: str = "Pets"):
    from learning.models import Certificate, CourseCompletion

    completion = CourseCompletion.objects.create(user=user, channel_id=COURSE_ID, version=1)
    return Certificate.objects.create(
        user=user, completion=completion, channel_id=COURSE_ID, course_name=course_name,
        version=1, version_label="spring term", learner_name=user.get_full_name() or "x",
        server_name="school", code=code, state=state)


def test_my_certificates_lists_only_my_certificates_with_download_and_verify_links(
        client, learner_user, outsider_user):
    mine = make_certificate(learner_user, code="MINE1234")
    make_certificate(outsider_user, code="THEIRS99", course_name="Someone else's course")
    client.force_login(learner_user)
    html = page_text(client.get("/learn/certificates/"))
    assert "Pets" in html and "1 (spring term)" in html and "MINE1234" in html
    assert f'href="/api/certificates/{mine.id}/pdf/" download' in html
    assert 'href="/certificates/verify/MINE1234/"' in html
    assert "THEIRS99" not in html and "Someone else" not in html
    assert mine.issued_at.strftime("%Y") in html


def test_a_certificate_still_rendering_is_shown_as_being_prepared(client, learner_user):
    make_certificate(learner_user, code="SOON5678", state="pending")
    client.force_login(learner_user)
    html = page_text(client.get("/learn/certificates/"))
    assert "Being prepared" in html
    assert "/pdf/" not in html


def test_my_certificates_says_when_there_are_none(client, learner_user):
    client.force_login(learner_user)
    assert "No certificates yet" in page_text(client.get("/learn/certificates/"))


def complete_nodes(user, channel_id: str, node_ids: list[str]) -> None:
    from learning.models import NodeProgress

    for node_id in node_ids:
        NodeProgress.objects.create(user=user, channel_id=channel_id, node_id=node_id,
                                    content_id=node_id, kind="document", progress=1.0,
                                    completed=True)


def test_my_courses_shows_progress_in_every_started_course_across_channels(
        client, course, make_channel, learner_user, outsider_user):
    from content.models import ContentNode
    from routers.context import using_content_database

    maths = make_channel("maths")
    with using_content_database(maths.channel_id):
        leaves = list(ContentNode.objects.filter(kind="document").order_by("lft")
                      .values_list("id", flat=True))
    complete_nodes(learner_user, COURSE_ID, [VIDEO_ID])
    complete_nodes(learner_user, maths.channel_id, leaves[:3])
    # Another learner's progress is not mine; a course I never opened is not listed.
    complete_nodes(outsider_user, COURSE_ID, [DOCUMENT_ID])
    make_channel("history")
    client.force_login(learner_user)
    html = page_text(client.get("/learn/"))
    pets = re.search(rf'<li class="learner-course" data-course="{COURSE_ID}">.*?</li>',
                     html, re.S).group(0)
    assert "Pets and numbers" in pets and "1 of 3 done (33%)" in pets
    assert "tests passed: 0 of 1" in pets
    assert '<progress class="progress-bar" max="100" value="33"' in pets
    assert f'href="/channels/{COURSE_ID}/">Continue' in pets
    assert "3 of 6 done (50%)" in html
    assert "History" not in html


def test_my_courses_marks_a_completed_course_and_one_no_longer_here(
        client, course, learner_user):
    from learning.models import CourseCompletion

    complete_nodes(learner_user, COURSE_ID, [VIDEO_ID, DOCUMENT_ID, TEST_ID])
    CourseCompletion.objects.create(user=learner_user, channel_id=COURSE_ID, version=1)
    gone_id = "30000000000000000000000000000000"
    complete_nodes(learner_user, gone_id, ["30000000000000000000000000000001"])
    client.force_login(learner_user)
    html = page_text(client.get("/learn/"))
    pets = re.search(rf'data-course="{COURSE_ID}">.*?</li>', html, re.S).group(0)
    assert '<span class="badge">Completed</span>' in pets
    assert "3 of 3 done (100%)" in pets and "Open the course" in pets
    assert "being prepared" in pets  # completed, and no certificate row yet
    gone = re.search(rf'data-course="{gone_id}">.*?</li>', html, re.S).group(0)
    assert "no longer on this server" in gone and "href=" not in gone


def test_my_courses_says_when_nothing_is_started(client, learner_user):
    client.force_login(learner_user)
    assert "You have not started a course yet" in page_text(client.get("/learn/"))


def test_the_player_gets_questions_it_cannot_show_marked_as_such(client, learner_user):
    build_quiz_course()
    client.force_login(learner_user)
    html = page_text(client.get(f"/channels/{QUIZ_COURSE_ID}/content/{QUIZ_ID}/"))
    questions_url = re.search(r'data-questions-url="([^"]+)"', html).group(1)
    data = client.get(questions_url).json()
    assert (data["display"], data["max_attempts"]) == ("all", None)
    capital, times = data["questions"]
    assert capital["text"] == "What is the capital of France?"
    assert [choice["text"] for choice in capital["choices"]] == ["Paris", "Lyon"]
    assert times == {"id": "times", "unsupported": True, "widget": "numeric-input"}
