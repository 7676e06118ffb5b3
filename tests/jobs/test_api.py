"""`/api/tasks/`: who may start, see and cancel a task, and what each answer looks like."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from jobs.models import Job
from tests.jobs.conftest import STEPS_KIND

pytestmark = pytest.mark.django_db

JOB_FIELDS = {"id", "kind", "state", "progress", "stage", "stage_done", "stage_total", "stages",
              "summary", "state_label", "stage_label", "stage_labels", "kind_label", "error",
              "params", "channel_id", "result", "created_by", "created_at", "started_at",
              "finished_at", "heartbeat_at", "attempts", "cancel_requested"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, body: object, **extra: Any):
    return client.post("/api/tasks/", json.dumps(body), content_type="application/json", **extra)


def test_an_admin_starts_a_scan_and_follows_it(admin_user, on_commit):
    client = signed_in(admin_user)
    with on_commit():
        response = post(client, {"kind": "scan"})
    assert response.status_code == 201
    job_id = response.json()["id"]
    body = client.get(f"/api/tasks/{job_id}/").json()
    assert set(body) == JOB_FIELDS
    assert body["kind"] == "scan" and body["state"] == "done" and body["progress"] == 100
    assert body["error"] == "" and body["created_by"] == "alice"
    assert body["result"] == {"registered": [], "rejected": {}, "missing": [], "unchanged": 0}
    assert body["summary"] == "0 registered, 0 rejected, 0 missing"


def test_anonymous_visitors_must_sign_in(db):
    client = Client()
    assert post(client, {"kind": "scan"}).status_code == 401
    assert client.get("/api/tasks/").status_code == 401
    assert set(client.get("/api/tasks/").json()) == {"detail"}


@pytest.mark.parametrize("user_fixture", ["learner_user", "author_user"])
def test_only_admins_import_export_or_scan(request, user_fixture, tmp_path):
    client = signed_in(request.getfixturevalue(user_fixture))
    for body in ({"kind": "scan"},
                 {"kind": "export", "channel_id": "a" * 32, "drive": str(tmp_path)},
                 {"kind": "import", "source": "disk", "channel_id": "a" * 32,
                  "drive": str(tmp_path)},
                 # Refused before the parameters are looked at.
                 {"kind": "import", "source": "nowhere"}):
        response = post(client, body)
        assert response.status_code == 403, body
        assert set(response.json()) == {"detail"}
    assert Job.objects.count() == 0


def test_bad_requests_say_which_field(admin_user):
    client = signed_in(admin_user)
    response = post(client, {"kind": "import", "source": "disk", "channel_id": "A" * 32,
                             "drive": "/"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"channel_id": ["a channel id is 32 lowercase hex "
                                                        "characters"]}
    response = post(client, {"kind": "reboot"})
    assert response.status_code == 400 and "use one of" in response.json()["detail"]
    assert post(client, ["scan"]).status_code == 400
    assert post(client, {}).status_code == 400
    assert Job.objects.count() == 0


def test_a_second_task_on_a_busy_channel_is_a_conflict(admin_user, tmp_path):
    client = signed_in(admin_user)
    body = {"kind": "export", "channel_id": "a" * 32, "drive": str(tmp_path)}
    assert post(client, body).status_code == 201       # no commit: stays queued
    response = post(client, body)
    assert response.status_code == 409 and "still queued" in response.json()["detail"]


def test_people_see_and_cancel_their_own_tasks_and_admins_all(
        steps_kind, admin_user, author_user, learner_user):
    author, learner, admin = signed_in(author_user), signed_in(learner_user), \
        signed_in(admin_user)
    job_id = post(author, {"kind": STEPS_KIND}).json()["id"]
    assert author.get(f"/api/tasks/{job_id}/").status_code == 200
    assert learner.get(f"/api/tasks/{job_id}/").status_code == 404
    assert learner.delete(f"/api/tasks/{job_id}/").status_code == 404
    assert admin.get(f"/api/tasks/{job_id}/").status_code == 200
    assert [item["id"] for item in author.get("/api/tasks/").json()["results"]] == [job_id]
    assert learner.get("/api/tasks/").json()["results"] == []
    assert admin.get("/api/tasks/").json()["count"] == 1
    response = author.delete(f"/api/tasks/{job_id}/")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert author.delete(f"/api/tasks/{job_id}/").status_code == 200


def test_cancelling_a_finished_task_is_a_conflict(steps_kind, admin_user, on_commit):
    client = signed_in(admin_user)
    with on_commit():
        job_id = post(client, {"kind": STEPS_KIND}).json()["id"]
    response = client.delete(f"/api/tasks/{job_id}/")
    assert response.status_code == 409 and "already ended (done)" in response.json()["detail"]


@pytest.mark.parametrize("job_id", ["nope", "0" * 32, "{00000000-0000-0000-0000-000000000000}",
                                    "00000000-0000-0000-0000-000000000000"])
def test_unknown_or_malformed_ids_are_404(admin_user, job_id):
    response = signed_in(admin_user).get(f"/api/tasks/{job_id}/")
    assert response.status_code == 404 and set(response.json()) == {"detail"}


def test_the_list_filters_by_state_channel_and_kind(steps_kind, admin_user, tmp_path, on_commit):
    client = signed_in(admin_user)
    with on_commit():
        done_id = post(client, {"kind": STEPS_KIND}).json()["id"]
    queued_id = post(client, {"kind": "export", "channel_id": "a" * 32,
                              "drive": str(tmp_path)}).json()["id"]

    def ids(**query: str) -> list[str]:
        return [item["id"] for item in client.get("/api/tasks/", query).json()["results"]]

    assert ids() == [queued_id, done_id]
    assert ids(state="queued,running") == [queued_id]
    assert ids(state="done") == [done_id]
    assert ids(channel_id="a" * 32) == [queued_id]
    assert ids(kind=STEPS_KIND) == [done_id]
    assert set(client.get("/api/tasks/").json()) == {"count", "next", "previous", "results"}


def test_session_requests_need_the_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = post(client, {"kind": "scan"})
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    client.get("/admin/import/")
    token = client.cookies["csrftoken"].value
    assert post(client, {"kind": "scan"}, HTTP_X_CSRFTOKEN=token).status_code == 201


def test_scripts_use_a_token(admin_user):
    token = Token.objects.create(user=admin_user)
    client = Client(enforce_csrf_checks=True)
    response = post(client, {"kind": "scan"}, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 201
