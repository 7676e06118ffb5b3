"""`GET /healthz/` and `kolibri-like status`: 200 or 503 with the failing check named."""

from __future__ import annotations

import shutil
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from jobs.models import Job
from operations import health
from operations.heartbeat import (
    forget_consumer_heartbeat,
    last_consumer_heartbeat,
    record_consumer_heartbeat,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def consumer_alive():
    """A consumer that reported just now; tests that need it dead forget it."""
    record_consumer_heartbeat()
    yield
    forget_consumer_heartbeat()


@pytest.fixture(autouse=True)
def plenty_of_space(monkeypatch):
    monkeypatch.setattr(health, "free_bytes", lambda path: 50 * 1024**3)


def test_a_healthy_server_answers_200_with_every_check_ok(client):
    response = client.get("/healthz/")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "channel_databases", "storage_space",
                                   "task_queue", "task_consumer", "ffmpeg"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


def test_it_needs_no_login_and_is_never_cached(client, settings):
    settings.ALLOW_GUEST_ACCESS = False
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_no_consumer_heartbeat_answers_503_naming_the_consumer(client):
    forget_consumer_heartbeat()
    response = client.get("/healthz/")
    body = response.json()
    assert response.status_code == 503
    assert body["failed"] == ["task_consumer"]
    assert "has ever reported" in body["checks"]["task_consumer"]["message"]
    assert "run_huey" in body["checks"]["task_consumer"]["action"]


def test_a_stale_heartbeat_fails_but_a_job_reporting_progress_proves_a_busy_consumer(client):
    record_consumer_heartbeat(now=time.time() - 10 * 60)
    assert client.get("/healthz/").json()["checks"]["task_consumer"]["message"].startswith(
        "no task consumer has reported for 10 minute")
    Job.objects.create(kind="import", state=Job.State.RUNNING, heartbeat_at=timezone.now())
    assert client.get("/healthz/").status_code == 200
    Job.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert client.get("/healthz/").status_code == 503


def test_a_heartbeat_under_three_minutes_old_is_recent(client):
    record_consumer_heartbeat(now=time.time() - 170)
    assert client.get("/healthz/").status_code == 200
    record_consumer_heartbeat(now=time.time() - 190)
    assert client.get("/healthz/").status_code == 503


def test_a_nearly_full_disk_fails_and_a_low_one_only_warns(client, monkeypatch):
    monkeypatch.setattr(health, "free_bytes", lambda path: 100 * 1024**2)
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["failed"] == ["storage_space"]
    assert "gcstorage" in response.json()["checks"]["storage_space"]["action"]
    monkeypatch.setattr(health, "free_bytes", lambda path: 1024**3)
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["checks"]["storage_space"]["status"] == "warning"


def test_a_missing_databases_folder_fails(client, content_dir):
    shutil.rmtree(content_dir / "databases")
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["failed"] == ["channel_databases"]
    assert "does not exist" in response.json()["checks"]["channel_databases"]["message"]


def test_a_missing_ffmpeg_fails(client, settings):
    settings.FFMPEG_BINARY = "/nowhere/ffmpeg"
    response = client.get("/healthz/")
    assert response.status_code == 503 and response.json()["failed"] == ["ffmpeg"]


def test_a_queue_that_does_not_answer_fails(client, monkeypatch):
    from huey.contrib.djhuey import HUEY

    def broken() -> int:
        raise OSError("connection refused")

    monkeypatch.setattr(HUEY, "pending_count", broken)
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert "task_queue" in response.json()["failed"]


def test_the_heartbeat_is_read_without_being_consumed():
    record_consumer_heartbeat(now=123.0)
    assert last_consumer_heartbeat().at == 123.0
    assert last_consumer_heartbeat().at == 123.0


def test_status_prints_every_check_and_exits_0_when_healthy(capsys):
    call_command("status")
    out = capsys.readouterr().out
    assert "OK       database:" in out and out.strip().endswith("healthy")


def test_status_exits_6_naming_what_failed(capsys):
    forget_consumer_heartbeat()
    with pytest.raises(CommandError) as caught:
        call_command("status")
    assert caught.value.returncode == 6
    assert "task_consumer" in str(caught.value)
    assert "what to do:" in capsys.readouterr().out


def test_status_json_is_the_healthz_body(capsys):
    import json

    call_command("status", "--json")
    assert json.loads(capsys.readouterr().out)["status"] == "ok"
