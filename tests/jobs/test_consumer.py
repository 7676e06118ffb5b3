"""Tasks started over HTTP run in a real consumer process (`kolibri-like start`), the path the
web UI takes: a disk import from an exported folder, with its state row showing progress and
the outcome. And a network import task against a real peer server."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from channels.models import Channel
from channels.transfer.disk import export_content_to_disk
from jobs.models import Job
from jobs.services import start_job
from tests.servers import ServerProcess

pytestmark = [pytest.mark.server, pytest.mark.django_db]

WAIT_SECONDS = 120
REQUEST_TIMEOUT = 10


def signed_in_session(server: ServerProcess) -> requests.Session:
    """Sign in as the server's first admin the way a browser does (CSRF cookie and field)."""
    session = requests.Session()
    login_page = session.get(server.url + "/login/", timeout=REQUEST_TIMEOUT)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
    assert token, "the login page has a CSRF field"
    response = session.post(server.url + "/login/", timeout=REQUEST_TIMEOUT,
                            data={"username": "admin", "password": "admin-pass",
                                  "csrfmiddlewaretoken": token.group(1)},
                            allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    session.headers["X-CSRFToken"] = session.cookies.get("csrftoken") or ""
    return session


def wait_for_end(session: requests.Session, url: str) -> tuple[dict[str, Any], set[str]]:
    deadline = time.monotonic() + WAIT_SECONDS
    seen_states: set[str] = set()
    while time.monotonic() < deadline:
        body = session.get(url, timeout=REQUEST_TIMEOUT).json()
        seen_states.add(str(body["state"]))
        if body["state"] in ("done", "failed", "cancelled"):
            return body, seen_states
        time.sleep(0.1)
    raise AssertionError(f"the task did not end within {WAIT_SECONDS}s (states seen: "
                         f"{sorted(seen_states)})")


def test_a_disk_import_started_over_http_runs_in_the_consumer(make_channel, tmp_path: Path):
    built = make_channel("maths", topics=3, leaves=4)
    drive = tmp_path / "usb"
    drive.mkdir()
    export_content_to_disk(built.channel_id, drive)

    with ServerProcess(tmp_path / "server", consumer=True) as server:
        session = signed_in_session(server)
        response = session.post(server.url + "/api/tasks/", timeout=REQUEST_TIMEOUT, json={
            "kind": "import", "source": "disk", "channel_id": built.channel_id,
            "drive": str(drive)})
        assert response.status_code == 201, response.text
        job_id = response.json()["id"]
        body, seen = wait_for_end(session, f"{server.url}/api/tasks/{job_id}/")
        assert body["state"] == "done", (body, server.output()[-3000:])
        assert body["progress"] == 100 and body["attempts"] == 1 and body["error"] == ""
        assert body["created_by"] == "admin"
        assert body["result"]["channel"]["installed"] is True
        assert body["result"]["content"]["copied"] == built.file_count
        listed = session.get(server.url + "/api/channels/", timeout=REQUEST_TIMEOUT).json()
        assert [(item["id"], item["version"]) for item in listed["results"]] == [
            (built.channel_id, 1)]
        stored = [path for path in (server.content_dir / "storage").rglob("*")
                  if path.is_file()]
        assert len(stored) == built.file_count
        page = session.get(server.url + "/admin/import/", timeout=REQUEST_TIMEOUT)
        assert f'data-task-id="{job_id}" data-task-state="done"' in page.text


def test_a_network_import_task_copies_from_a_peer(admin_user, django_capture_on_commit_callbacks,
                                                  tmp_path: Path, settings):
    settings.JOBS = {"PROGRESS_WRITE_SECONDS": 0}
    peer = ServerProcess(tmp_path / "peer")
    peer.home.mkdir(parents=True)
    peer.run_command("migrate", "--noinput")
    peer.run_command("generate_demo_channel", "--nodes", "8", "--seed", "2")
    with peer:
        [offered] = requests.get(peer.url + "/api/channels/",
                                 timeout=REQUEST_TIMEOUT).json()["results"]
        with django_capture_on_commit_callbacks(execute=True):
            job = start_job(admin_user, {"kind": "import", "source": "network",
                                         "channel_id": offered["id"], "url": peer.url + "/"})
    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    assert job.params["url"] == peer.url
    channel = Channel.objects.get(id=offered["id"])
    assert channel.version == offered["version"] and channel.state == Channel.State.AVAILABLE
    assert job.result["content"]["failures"] == 0
    assert job.result["content"]["copied"] + job.result["content"]["already_present"] == \
        job.result["content"]["files_total"] > 0
