"""A task started over HTTP runs in a real consumer process (`kolibri-like start`), with its
state row showing progress and the outcome: the path the web UI takes."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from tests.servers import ServerProcess

pytestmark = pytest.mark.server

WAIT_SECONDS = 90
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
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def wait_for_end(session: requests.Session, url: str) -> dict[str, object]:
    deadline = time.monotonic() + WAIT_SECONDS
    seen_states = set()
    while time.monotonic() < deadline:
        body = session.get(url, timeout=REQUEST_TIMEOUT).json()
        seen_states.add(body["state"])
        if body["state"] in ("done", "failed", "cancelled"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"the task did not end within {WAIT_SECONDS}s (states seen: "
                         f"{sorted(seen_states)})")


def test_a_scan_started_over_http_runs_in_the_consumer(tmp_path: Path):
    server = ServerProcess(tmp_path / "server", consumer=True)
    with server:
        # Dropped in after start-up (which scans once): only the task can find it.
        dropped = server.content_dir / "databases" / ("ab" * 16 + ".sqlite3")
        dropped.write_bytes(b"not a database at all" * 100)
        session = signed_in_session(server)
        response = session.post(server.url + "/api/tasks/", json={"kind": "scan"},
                                timeout=REQUEST_TIMEOUT)
        assert response.status_code == 201, response.text
        job_id = response.json()["id"]
        body = wait_for_end(session, f"{server.url}/api/tasks/{job_id}/")
        assert body["state"] == "done", (body, server.output()[-3000:])
        assert body["progress"] == 100 and body["attempts"] == 1
        assert "ab" * 16 in body["result"]["rejected"]
        listed = session.get(server.url + "/api/tasks/", timeout=REQUEST_TIMEOUT).json()
        assert [item["id"] for item in listed["results"]] == [job_id]
