"""POST and GET /api/progress/: per node, and per course across channels."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from learning.models import NodeProgress
from tests.learning.conftest import api, question, quiz

pytestmark = pytest.mark.django_db


def report(client, course, node_id, progress, **extra):
    return client.post("/api/progress/", {"channel_id": course.channel_id, "node_id": node_id,
                                          "progress": progress, **extra}, format="json")


def test_a_video_keeps_its_furthest_point_and_completes_at_90_percent(make_course, learner_user):
    course = make_course("video")
    client = api(learner_user)
    video = course.video_ids[0]
    assert report(client, course, video, 0.5).json()["progress"] == 0.5
    # Rewinding is not forgetting.
    body = report(client, course, video, 0.2).json()
    assert (body["progress"], body["completed"]) == (0.5, False)
    body = report(client, course, video, 0.9).json()
    assert body["completed"] is True and body["content_id"]
    assert report(client, course, video, 0.1).json()["completed"] is True


def test_a_video_that_ended_is_complete(make_course, learner_user):
    course = make_course("ended")
    body = report(api(learner_user), course, course.video_ids[0], 0.8, ended=True).json()
    assert (body["progress"], body["completed"]) == (1.0, True)


def test_a_document_is_complete_once_opened(make_course, learner_user):
    course = make_course("document")
    body = report(api(learner_user), course, course.document_ids[0], 0).json()
    assert (body["progress"], body["completed"], body["kind"]) == (1.0, True, "document")


@pytest.mark.parametrize("target, progress, status", [
    ("root", 0.5, 400), ("test", 0.5, 400), ("video", 1.5, 400), ("video", True, 400),
    ("video", "half", 400), ("unknown", 0.5, 404), ("malformed", 0.5, 400),
])
def test_bad_reports_are_refused(make_course, learner_user, target, progress, status):
    course = make_course("bad", tests=[quiz("Q", [question("?", [("a", True), ("b", False)])])])
    node_id = {"root": course.root_id, "test": course.test_ids[0], "video": course.video_ids[0],
               "unknown": "a" * 32, "malformed": "A" * 32}[target]
    response = report(api(learner_user), course, node_id, progress)
    assert response.status_code == status and isinstance(response.json()["detail"], str)
    assert not NodeProgress.objects.exists()


def test_a_channel_that_is_not_here_is_not_found(learner_user):
    response = api(learner_user).post("/api/progress/", {
        "channel_id": "c" * 32, "node_id": "d" * 32, "progress": 0.5}, format="json")
    assert response.status_code == 404


def test_progress_across_two_channels_costs_one_query_per_channel(make_course, learner_user,
                                                                  outsider_user):
    maths = make_course("maths", documents=40, tests=[
        quiz("Maths quiz", [question("1+1?", [("2", True), ("3", False)])])])
    french = make_course("french", documents=3, videos=2)
    client = api(learner_user)
    for node_id in maths.document_ids[:10]:
        report(client, maths, node_id, 1)
    report(client, french, french.video_ids[0], 0.95)
    report(client, french, french.video_ids[1], 0.3)
    report(api(outsider_user), french, french.document_ids[0], 1)

    with CaptureQueriesContext(connections[maths.channel_id]) as maths_queries, \
            CaptureQueriesContext(connections[french.channel_id]) as french_queries:
        body = client.get("/api/progress/").json()
    # One aggregate per channel database, whatever the size of its tree.
    assert len(maths_queries.captured_queries) == 1
    assert len(french_queries.captured_queries) == 1
    assert "COUNT" in maths_queries.captured_queries[0]["sql"].upper()

    assert body["count"] == 12
    courses = {course["channel_id"]: course for course in body["courses"]}
    assert courses[maths.channel_id] == {
        "channel_id": maths.channel_id, "name": "Maths", "version": 1, "version_label": "",
        "available": True, "total_resources": 42, "completed_resources": 10,
        "progress": pytest.approx(10 / 42), "tests_total": 1, "tests_passed": 0,
        "completed": False, "certificate_id": None}
    assert courses[french.channel_id]["total_resources"] == 5
    assert courses[french.channel_id]["completed_resources"] == 1

    only_french = client.get(f"/api/progress/?channel_id={french.channel_id}").json()
    assert only_french["count"] == 2
    assert [course["channel_id"] for course in only_french["courses"]] == [french.channel_id]
    assert client.get("/api/progress/?channel_id=nope").status_code == 400


def test_learners_never_see_each_others_progress(make_course, learner_user, outsider_user):
    course = make_course("private")
    report(api(learner_user), course, course.document_ids[0], 1)
    body = api(outsider_user).get("/api/progress/").json()
    assert body["count"] == 0 and body["courses"] == []
