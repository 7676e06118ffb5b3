"""The certificate renderer runs in a process of its own: one that hangs is killed at the time
limit, one that crashes says so, and neither leaves a file; the PDF is in the language the
learner used when the course was completed."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import pytest

from learning import certificate_pdf
from learning.certificate_pdf import CertificateText, render_certificate_pdf
from learning.certificates import private_certificates_root
from learning.errors import CertificateRenderError
from learning.models import Certificate
from tests.learning.conftest import api, question, quiz
from tests.learning.test_certificate_pdf import pdf_text

TEXT = CertificateText(learner_name="Ada", course_name="Fractions", version=1, version_label="",
                       issued_on=dt.date(2026, 3, 1), server_name="Room 4",
                       code="ABCDEFGHJKMNPQRS",
                       verify_url="http://10.0.0.2:8000/certificates/verify/ABCDEFGHJKMNPQRS/")


@pytest.fixture
def worker(monkeypatch, tmp_path):
    """Replace the renderer by a tiny Python child, run the same way, with this code."""
    def use(code: str) -> None:
        script = tmp_path / "worker.py"
        script.write_text(code)
        monkeypatch.setattr(certificate_pdf, "worker_command",
                            lambda: [sys.executable, "-I", str(script)])
    return use


def test_a_render_that_hangs_is_killed_at_the_time_limit(settings, worker, tmp_path):
    pid_file = tmp_path / "pid"
    worker("import os, sys, time\nsys.stdin.buffer.read()\n"
           f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(300)\n")
    settings.CERTIFICATE_RENDER_TIMEOUT_SECONDS = 1
    started = time.monotonic()
    with pytest.raises(CertificateRenderError, match="longer than 1 s .*"
                                                     "CERTIFICATE_RENDER_TIMEOUT_SECONDS"):
        render_certificate_pdf(TEXT)
    assert time.monotonic() - started < 10
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists()  # killed and reaped, not left sleeping


def test_a_render_that_crashes_says_so(worker):
    worker("import os, signal, sys\nsys.stdin.buffer.read()\n"
           "os.kill(os.getpid(), signal.SIGSEGV)\n")
    with pytest.raises(CertificateRenderError, match="crashed .SIGSEGV."):
        render_certificate_pdf(TEXT)


def test_a_render_that_writes_no_pdf_is_an_error(worker):
    worker("import sys\nsys.stdin.buffer.read()\nsys.stdout.write('<html>not a pdf')\n")
    with pytest.raises(CertificateRenderError, match="no PDF"):
        render_certificate_pdf(TEXT)


@pytest.mark.django_db
def test_a_hung_render_leaves_the_certificate_failed_with_no_file(
        make_course, learner_user, settings, worker, django_capture_on_commit_callbacks):
    worker("import sys, time\nsys.stdin.buffer.read()\nsys.stdout.write('%PDF-1.4 partial')\n"
           "sys.stdout.flush()\ntime.sleep(300)\n")
    settings.CERTIFICATE_RENDER_TIMEOUT_SECONDS = 1
    course = make_course("slow", tests=[quiz("Quiz", [question("1+1?", [("2", True), ("3", False)])])],
                         videos=0)
    client = api(learner_user)
    with django_capture_on_commit_callbacks(execute=True):
        _pass(client, course)
    certificate = Certificate.objects.get(user=learner_user)
    assert certificate.state == Certificate.State.FAILED
    assert "CERTIFICATE_RENDER_TIMEOUT_SECONDS" in certificate.error
    root = private_certificates_root()
    assert not root.exists() or list(root.iterdir()) == []
    response = client.get(f"/api/certificates/{certificate.id}/pdf/")
    assert response.status_code == 409 and "retried" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "words"), [
    ("fr", "Certificat de réussite"), ("ar", "شهادة إتمام"), ("en", "Certificate of completion"),
])
def test_the_pdf_is_in_the_language_of_the_request_that_completed_the_course(
        make_course, learner_user, django_capture_on_commit_callbacks, language, words):
    course = make_course("lang", tests=[quiz("Quiz", [question("1+1?", [("2", True), ("3", False)])])],
                         videos=0)
    client = api(learner_user)
    client.credentials(HTTP_ACCEPT_LANGUAGE=language)
    with django_capture_on_commit_callbacks(execute=True):
        _pass(client, course)
    certificate = Certificate.objects.get(user=learner_user)
    assert certificate.language == language
    response = client.get(f"/api/certificates/{certificate.id}/pdf/")
    assert response.status_code == 200
    assert words in pdf_text(response.content)


def _pass(client, course) -> None:
    node_id = course.test_ids[0]
    body = client.get(f"/api/content/{course.channel_id}/contentnode/{node_id}/questions/").json()
    answers = {item["id"]: ["0"] for item in body["questions"]}
    response = client.post("/api/attempts/", {"channel_id": course.channel_id,
                                              "node_id": node_id, "answers": answers},
                           format="json")
    assert response.status_code == 201 and response.json()["passed"], response.json()
