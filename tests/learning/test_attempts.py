"""POST /api/attempts/: graded on the server, stored, limited, and raising progress."""

from __future__ import annotations

import json

import pytest

from learning.models import Attempt, NodeProgress
from channels.builder import FileSpec, NodeSpec, stable_id
from tests.learning.conftest import api, kolibri_exercise_file, question, quiz

pytestmark = pytest.mark.django_db


def five_questions(**options):
    return quiz("Five", [question(f"q{index}?", [("yes", True), ("no", False)])
                         for index in range(5)], **options)


def answers_with(course, client, right: int) -> dict[str, list[str]]:
    body = client.get(f"/api/content/{course.channel_id}/contentnode/{course.test_ids[0]}"
                      "/questions/").json()
    return {item["id"]: ["0" if index < right else "1"]
            for index, item in enumerate(body["questions"])}


def submit(client, course, answers, **extra):
    return client.post("/api/attempts/", {"channel_id": course.channel_id,
                                          "node_id": course.test_ids[0], "answers": answers,
                                          **extra}, format="json")


def test_four_of_five_passes_a_pass_mark_of_80_percent(make_course, learner_user):
    course = make_course("edge", tests=[five_questions(pass_mark=0.8)])
    client = api(learner_user)
    response = submit(client, course, answers_with(course, client, 4),
                      started_at="2026-01-01T09:00:00Z")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["score"], body["passed"], body["attempts_used"]) == (0.8, True, 1)
    assert sorted(body["results"].values()) == [False, True, True, True, True]
    # Wrong questions are named, their correct choices are not.
    assert "correct" not in json.dumps(body)
    attempt = Attempt.objects.get(id=body["id"])
    assert attempt.version == 1 and attempt.started_at.year == 2026
    progress = NodeProgress.objects.get(user=learner_user, node_id=course.test_ids[0])
    assert progress.completed and progress.progress == pytest.approx(0.8)


def test_three_of_five_fails_and_unanswered_questions_count_as_wrong(make_course, learner_user):
    course = make_course("fail", tests=[five_questions()])
    client = api(learner_user)
    answers = answers_with(course, client, 5)
    kept = dict(list(answers.items())[:3])
    body = submit(client, course, kept).json()
    assert (body["score"], body["passed"]) == (0.6, False)
    progress = NodeProgress.objects.get(user=learner_user, node_id=course.test_ids[0])
    assert not progress.completed and progress.progress == pytest.approx(0.6)


def test_the_attempt_limit_is_enforced_with_409(make_course, learner_user):
    course = make_course("limit", tests=[five_questions(max_attempts=2)])
    client = api(learner_user)
    wrong = answers_with(course, client, 0)
    assert submit(client, course, wrong).status_code == 201
    assert submit(client, course, wrong).status_code == 201
    third = submit(client, course, wrong)
    assert third.status_code == 409 and "all 2 attempts" in third.json()["detail"]
    assert Attempt.objects.filter(user=learner_user).count() == 2
    questions = client.get(f"/api/content/{course.channel_id}/contentnode/"
                           f"{course.test_ids[0]}/questions/").json()
    assert questions["attempts_used"] == 2


def test_practice_after_passing_never_lowers_progress(make_course, learner_user):
    course = make_course("practice", tests=[five_questions()])
    client = api(learner_user)
    assert submit(client, course, answers_with(course, client, 5)).json()["passed"] is True
    again = submit(client, course, answers_with(course, client, 1))
    assert again.status_code == 201 and again.json()["passed"] is False
    progress = NodeProgress.objects.get(user=learner_user, node_id=course.test_ids[0])
    assert progress.completed and progress.progress == 1.0


@pytest.mark.parametrize("payload, status", [
    ({"node_id": None, "answers": {}}, 400),
    ({"node_id": "NOT-HEX", "answers": {}}, 400),
    ({"node_id": "f" * 32, "answers": {}}, 404),
    ({"answers": {"nope": ["0"]}}, 400),
    ({"answers": "all of them"}, 400),
    ({"answers": {}, "started_at": "yesterday"}, 400),
    ({"answers": {}, "started_at": "2999-01-01T00:00:00Z"}, 400),
])
def test_bad_submissions_are_refused_with_a_sentence(make_course, learner_user, payload, status):
    course = make_course("bad", tests=[five_questions()])
    body = {"channel_id": course.channel_id, "node_id": course.test_ids[0], **payload}
    if "node_id" in payload and payload["node_id"] is None:
        body.pop("node_id")
    response = api(learner_user).post("/api/attempts/", body, format="json")
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str)
    assert not Attempt.objects.exists()


def test_a_video_is_not_a_test(make_course, learner_user):
    course = make_course("video", tests=[five_questions()])
    response = api(learner_user).post("/api/attempts/", {
        "channel_id": course.channel_id, "node_id": course.video_ids[0], "answers": {}},
        format="json")
    assert response.status_code == 404


def test_learners_list_only_their_own_attempts(make_course, learner_user, outsider_user):
    course = make_course("own", tests=[five_questions()])
    mine = api(learner_user)
    submit(mine, course, answers_with(course, mine, 5))
    theirs = api(outsider_user)
    submit(theirs, course, answers_with(course, theirs, 1))
    listed = mine.get(f"/api/attempts/?channel_id={course.channel_id}").json()
    assert listed["count"] == 1 and listed["results"][0]["score"] == 1.0
    assert api(outsider_user).get("/api/attempts/").json()["count"] == 1
    assert mine.get("/api/attempts/?node_id=x").status_code == 400


def test_kolibri_exercises_grade_what_we_show_and_skip_the_rest(make_course, learner_user):
    node = NodeSpec(title="From Kolibri", kind="exercise", id=stable_id("kolibri grading"),
                    files=[FileSpec("exercise", "perseus", kolibri_exercise_file(m=2, n=3))])
    course = make_course("kolibri-grading", tests=[], extra=[node])
    client = api(learner_user)
    for _ in range(4):  # no attempt limit from Kolibri's mastery model
        response = client.post("/api/attempts/", {
            "channel_id": course.channel_id, "node_id": node.id,
            "answers": {"k1": ["0"], "k2": ["1"], "k3": ["0"]}}, format="json")
        assert response.status_code == 201
    body = response.json()
    # k3 is a number input: not graded, not counted; 1 of 2 is below the pass mark of 2/3.
    assert body["results"] == {"k1": True, "k2": False, "k3": None}
    assert (body["score"], body["passed"], body["max_attempts"]) == (0.5, False, None)
    both = client.post("/api/attempts/", {"channel_id": course.channel_id, "node_id": node.id,
                                          "answers": {"k1": ["0"], "k2": ["0"]}},
                       format="json").json()
    assert (both["score"], both["passed"]) == (1.0, True)


def test_a_test_whose_questions_we_cannot_show_is_not_graded(make_course, learner_user):
    data = kolibri_exercise_file(m=1, n=1, radio=False)
    node = NodeSpec(title="Widgets only", kind="exercise", id=stable_id("widgets only"),
                    files=[FileSpec("exercise", "perseus", data)])
    course = make_course("widgets-only", tests=[], extra=[node])
    response = api(learner_user).post("/api/attempts/", {
        "channel_id": course.channel_id, "node_id": node.id, "answers": {}}, format="json")
    assert response.status_code == 409 and "cannot" in response.json()["detail"]
    assert not Attempt.objects.exists()
