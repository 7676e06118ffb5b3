"""Every role against every learning endpoint: guests are told to sign in, nobody reads another
learner's attempts, progress or certificates (404), admins may fetch any certificate."""

from __future__ import annotations

import pytest

from learning.models import Attempt, Certificate, NodeProgress
from tests.learning.conftest import api, question, quiz

pytestmark = pytest.mark.django_db

ROLES = ("guest", "owner", "outsider", "author", "admin")


@pytest.fixture
def world(make_course, learner_user, outsider_user, author_user, admin_user,
          django_capture_on_commit_callbacks):
    """The owner (a learner) completed a one-test course and holds its certificate."""
    course = make_course("perm", tests=[quiz("Only", [question("?", [("a", True),
                                                                     ("b", False)])])],
                         videos=0)
    owner = api(learner_user)
    question_id = owner.get(f"/api/content/{course.channel_id}/contentnode/"
                            f"{course.test_ids[0]}/questions/").json()["questions"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/api/attempts/", {"channel_id": course.channel_id,
                                      "node_id": course.test_ids[0],
                                      "answers": {question_id: ["0"]}}, format="json")
    certificate = Certificate.objects.get(user=learner_user)
    assert certificate.state == Certificate.State.READY
    users = {"guest": None, "owner": learner_user, "outsider": outsider_user,
             "author": author_user, "admin": admin_user}
    return course, certificate, question_id, users


@pytest.mark.parametrize("role", ROLES)
def test_reading_the_questions(world, role, settings):
    course, _certificate, _question_id, users = world
    settings.ALLOW_GUEST_ACCESS = True
    url = f"/api/content/{course.channel_id}/contentnode/{course.test_ids[0]}/questions/"
    response = api(users[role]).get(url)
    assert response.status_code == 200
    assert response.json()["attempts_used"] == (1 if role == "owner" else 0)


@pytest.mark.parametrize("role", ROLES)
def test_taking_a_test_and_reporting_progress(world, role):
    course, _certificate, question_id, users = world
    client = api(users[role])
    attempt = client.post("/api/attempts/", {"channel_id": course.channel_id,
                                             "node_id": course.test_ids[0],
                                             "answers": {question_id: ["1"]}}, format="json")
    progress = client.post("/api/progress/", {"channel_id": course.channel_id,
                                              "node_id": course.document_ids[0],
                                              "progress": 1}, format="json")
    if role == "guest":
        assert attempt.status_code == 401 and "Sign in" in attempt.json()["detail"]
        assert progress.status_code == 401 and "Sign in" in progress.json()["detail"]
        assert Attempt.objects.count() == 1 and NodeProgress.objects.count() == 1
    else:
        # Any account may learn: authors and admins take courses too.
        assert attempt.status_code == 201 and progress.status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_lists_show_only_ones_own(world, role):
    _course, certificate, _question_id, users = world
    client = api(users[role])
    responses = [client.get(url) for url in ("/api/attempts/", "/api/progress/",
                                             "/api/certificates/")]
    if role == "guest":
        assert [response.status_code for response in responses] == [401, 401, 401]
        return
    counts = [response.json()["count"] for response in responses]
    assert counts == ([1, 1, 1] if role == "owner" else [0, 0, 0])
    if role != "owner":
        assert responses[1].json()["courses"] == []


@pytest.mark.parametrize("role, expected", [
    ("guest", 401), ("owner", 200), ("outsider", 404), ("author", 404), ("admin", 200)])
def test_someone_elses_certificate(world, role, expected):
    _course, certificate, _question_id, users = world
    client = api(users[role])
    assert client.get(f"/api/certificates/{certificate.id}/").status_code == expected
    assert client.get(f"/api/certificates/{certificate.id}/pdf/").status_code == expected
    assert client.get("/api/certificates/not-a-uuid/pdf/").status_code == (
        401 if role == "guest" else 404)


@pytest.mark.parametrize("role", ROLES)
def test_anyone_verifies_a_certificate(world, role):
    _course, certificate, _question_id, users = world
    response = api(users[role]).get(f"/certificates/verify/{certificate.code}/?format=json")
    assert response.status_code == 200 and response.json()["genuine"] is True
    # What it certifies, never who can download it or where it is stored.
    assert "id" not in response.json() and "checksum" not in response.json()
