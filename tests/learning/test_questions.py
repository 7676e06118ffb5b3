"""GET /api/content/<channel_id>/contentnode/<node_id>/questions/ and its images."""

from __future__ import annotations

import json

import pytest

from channels.builder import FileSpec, NodeSpec, stable_id
from tests.learning.conftest import (
    RED_PNG,
    api,
    kolibri_exercise_file,
    question,
    quiz,
)

pytestmark = pytest.mark.django_db


def questions_url(channel_id: str, node_id: str) -> str:
    return f"/api/content/{channel_id}/contentnode/{node_id}/questions/"


def picture_quiz():
    return quiz("Pictures", [
        question("Which is red?", [("this one", True), ("that one", False)], image="red",
                 answer_images={0: "red", 1: "blue"}),
        question("Pick the *primes* $x$", [("2", True), ("3", True), ("4", False)],
                 multiple=True),
    ], pass_mark=0.5, max_attempts=3, display="all")


def test_it_gives_the_questions_without_their_answers(make_course, learner_user):
    course = make_course("pictures", tests=[picture_quiz()])
    response = api(learner_user).get(questions_url(course.channel_id, course.test_ids[0]))
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Pictures"
    assert (body["pass_mark"], body["display"], body["max_attempts"]) == (0.5, "all", 3)
    assert body["attempts_used"] == 0 and body["version"] == 1
    first, second = body["questions"]
    assert first["text"] == "Which is red?" and first["multiple"] is False
    assert first["image"].startswith(
        f"/api/content/{course.channel_id}/contentnode/{course.test_ids[0]}/questions/image/")
    assert [choice["id"] for choice in first["choices"]] == ["0", "1"]
    assert first["choices"][0]["image"] != first["choices"][1]["image"]
    # Markdown and math come back as the text the author typed.
    assert second["text"] == "Pick the *primes* $x$" and second["multiple"] is True
    assert [choice["text"] for choice in second["choices"]] == ["2", "3", "4"]
    assert "correct" not in json.dumps(body)


def test_guests_read_questions_when_guest_access_is_on(make_course, settings):
    course = make_course("guests", tests=[picture_quiz()])
    settings.ALLOW_GUEST_ACCESS = True
    response = api().get(questions_url(course.channel_id, course.test_ids[0]))
    assert response.status_code == 200 and response.json()["attempts_used"] == 0
    settings.ALLOW_GUEST_ACCESS = False
    assert api().get(questions_url(course.channel_id, course.test_ids[0])).status_code in (401,
                                                                                           403)


def test_question_images_are_served_and_nothing_else_from_the_file(make_course, learner_user):
    course = make_course("images", tests=[picture_quiz()])
    client = api(learner_user)
    body = client.get(questions_url(course.channel_id, course.test_ids[0])).json()
    image = client.get(body["questions"][0]["image"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image.content == RED_PNG
    base = questions_url(course.channel_id, course.test_ids[0]) + "image/"
    for name in ("exercise.json", "..%2Fexercise.json", "nothere.png", "a.exe"):
        response = client.get(base + name + "/")
        assert response.status_code == 404, name
        assert "detail" in response.json()


def test_unknown_nodes_and_non_tests_answer_404(make_course, learner_user):
    course = make_course("notatest", tests=[picture_quiz()])
    client = api(learner_user)
    assert client.get(questions_url(course.channel_id, course.video_ids[0])).status_code == 404
    assert client.get(questions_url(course.channel_id, "f" * 32)).status_code == 404
    assert client.get(questions_url(course.channel_id, "F" * 32)).status_code == 404
    assert client.get(questions_url("e" * 32, course.test_ids[0])).status_code == 404


def test_kolibri_exercises_use_their_mastery_model_and_show_unsupported_widgets(
        make_course, learner_user):
    node = NodeSpec(title="From Kolibri", kind="exercise", id=stable_id("kolibri exercise"),
                    files=[FileSpec("exercise", "perseus", kolibri_exercise_file(m=2, n=3))])
    course = make_course("kolibri", tests=[], extra=[node])
    body = api(learner_user).get(questions_url(course.channel_id, node.id or "")).json()
    assert body["pass_mark"] == pytest.approx(2 / 3)
    assert (body["display"], body["max_attempts"]) == ("one", None)
    k1, _k2, k3 = body["questions"]
    assert k1["text"] == "Pick $\\frac{1}{2}$" and [c["text"] for c in k1["choices"]] == [
        "half", "third"]
    assert k3 == {"id": "k3", "unsupported": True, "widget": "numeric-input"}
