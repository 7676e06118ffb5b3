"""Completion makes a certificate: rendered to a real PDF, stored privately, served unchanged,
verifiable by its code, kept across new versions, retried when rendering fails."""

from __future__ import annotations

import io
import os
import time
import uuid

import pypdf
import pypdfium2
import pytest

from learning.certificates import (
    private_certificates_root,
    retry_certificates,
    sweep_certificate_store,
)
from learning.completion import check_course_completion, course_requirements, issue_certificate
from learning.models import Certificate, CourseCompletion
from tests.learning.conftest import api, question, quiz

pytestmark = pytest.mark.django_db


def two_quizzes():
    return [quiz("First quiz", [question("1+1?", [("2", True), ("3", False)])]),
            quiz("Second quiz", [question("2+2?", [("4", True), ("5", False)],
                                          key="second")])]


def pass_test(client, course, node_id):
    body = client.get(f"/api/content/{course.channel_id}/contentnode/{node_id}/questions/").json()
    answers = {item["id"]: ["0"] for item in body["questions"]}
    response = client.post("/api/attempts/", {"channel_id": course.channel_id,
                                              "node_id": node_id, "answers": answers},
                           format="json")
    assert response.status_code == 201 and response.json()["passed"], response.json()
    return response.json()


def watch(client, course, node_id):
    response = client.post("/api/progress/", {"channel_id": course.channel_id,
                                              "node_id": node_id, "progress": 1.0,
                                              "ended": True}, format="json")
    assert response.status_code == 200, response.json()


@pytest.fixture
def learner(learner_user):
    learner_user.first_name, learner_user.last_name = "Charlie", "Okafor"
    learner_user.save()
    return learner_user


@pytest.fixture
def completed(make_course, learner, django_capture_on_commit_callbacks):
    """A learner who passed both tests and watched the required video (the task runs inline)."""
    course = make_course("algebra", tests=two_quizzes(), require_videos=True,
                         version_label="spring term")
    client = api(learner)
    with django_capture_on_commit_callbacks(execute=True):
        assert pass_test(client, course, course.test_ids[0])["certificate"] is None
        assert pass_test(client, course, course.test_ids[1])["certificate"] is None
        watch(client, course, course.video_ids[0])
    certificate = Certificate.objects.get(user=learner)
    return course, client, certificate


def test_completing_a_course_issues_a_rendered_certificate(completed, learner):
    course, client, certificate = completed
    assert certificate.state == Certificate.State.READY, certificate.error
    assert (certificate.course_name, certificate.version, certificate.version_label) == (
        "Algebra", 1, "spring term")
    assert certificate.learner_name == "Charlie Okafor"
    assert CourseCompletion.objects.get(user=learner).version == 1

    listed = client.get("/api/certificates/").json()
    assert listed["count"] == 1
    assert listed["results"][0]["code"] == certificate.code
    assert {"id", "channel_id", "course_name", "version", "version_label", "issued_at",
            "code"} <= set(listed["results"][0])

    response = client.get(f"/api/certificates/{certificate.id}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in ("Charlie Okafor", "Algebra", certificate.code, "spring term",
                     f"/certificates/verify/{certificate.code}/"):
        assert expected in text
    # Page 1 drawn for real: far from blank (text, frame and QR code are dark pixels).
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=1).to_pil().convert("L")
    finally:
        document.close()
    dark = sum(image.histogram()[:128])
    assert dark > 0.01 * image.width * image.height

    # Same bytes every time, from the private store, never the public one.
    assert client.get(f"/api/certificates/{certificate.id}/pdf/").content == pdf
    stored = list(private_certificates_root().glob("*.pdf"))
    assert [path.read_bytes() for path in stored] == [pdf]
    public_store = private_certificates_root().parent.parent / "storage"
    assert not any(path.is_file() and path.read_bytes() == pdf
                   for path in public_store.rglob("*"))


def test_progress_summary_shows_the_completed_course(completed):
    course, client, certificate = completed
    summary = client.get("/api/progress/").json()["courses"][0]
    assert summary["completed"] is True and summary["certificate_id"] == str(certificate.id)
    assert (summary["tests_total"], summary["tests_passed"]) == (2, 2)


def test_someone_elses_certificate_is_not_found(completed, outsider_user, admin_user):
    _course, _client, certificate = completed
    outsider = api(outsider_user)
    assert outsider.get(f"/api/certificates/{certificate.id}/pdf/").status_code == 404
    assert outsider.get(f"/api/certificates/{certificate.id}/").status_code == 404
    assert outsider.get("/api/certificates/").json()["count"] == 0
    # Admins may fetch any PDF (support), but their own list shows their own only.
    assert api(admin_user).get(f"/api/certificates/{certificate.id}/pdf/").status_code == 200
    assert api(admin_user).get("/api/certificates/").json()["count"] == 0
    assert api().get(f"/api/certificates/{certificate.id}/pdf/").status_code == 401


def test_the_verify_page_says_genuine_or_not(completed, client):
    _course, _api_client, certificate = completed
    page = client.get(f"/certificates/verify/{certificate.code}/")
    assert page.status_code == 200
    assert b"Genuine certificate" in page.content and b"Charlie Okafor" in page.content
    as_json = client.get(f"/certificates/verify/{certificate.code.lower()}/",
                         HTTP_ACCEPT="application/json").json()
    assert as_json["genuine"] is True and as_json["course_name"] == "Algebra"
    assert as_json["code"] == certificate.code

    unknown = client.get("/certificates/verify/AAAAAAAAAAAAAAAA/")
    assert unknown.status_code == 404 and b"Not a genuine certificate" in unknown.content
    junk = client.get("/certificates/verify/%3Cscript%3E/?format=json")
    assert junk.status_code == 404 and junk.json()["genuine"] is False


def test_a_new_version_does_not_revoke_or_reissue(completed, make_course, learner, client):
    course, api_client, certificate = completed
    pdf = api_client.get(f"/api/certificates/{certificate.id}/pdf/").content
    make_course("algebra", tests=two_quizzes() + [quiz("New quiz", [question(
        "3+3?", [("6", True), ("7", False)], key="new")])], require_videos=True)
    assert course_requirements(course.channel_id).version == 2
    # The new version has a test not yet passed; the issued certificate stands.
    assert check_course_completion(learner, course.channel_id) == certificate
    assert Certificate.objects.count() == 1
    assert api_client.get(f"/api/certificates/{certificate.id}/pdf/").content == pdf
    verified = client.get(f"/certificates/verify/{certificate.code}/?format=json").json()
    assert verified["genuine"] is True and verified["version"] == 1


def test_a_second_completion_returns_the_first_certificate(completed, learner):
    course, _client, certificate = completed
    again = issue_certificate(learner, course_requirements(course.channel_id))
    assert again == certificate and CourseCompletion.objects.count() == 1


def test_tests_passed_without_required_videos_do_not_complete(make_course, learner):
    course = make_course("videos", tests=two_quizzes(), require_videos=True)
    client = api(learner)
    pass_test(client, course, course.test_ids[0])
    pass_test(client, course, course.test_ids[1])
    assert not Certificate.objects.exists()


def test_a_course_that_requires_nothing_is_never_complete(make_course, learner):
    course = make_course("plain", tests=[])
    watch(api(learner), course, course.video_ids[0])
    assert check_course_completion(learner, course.channel_id) is None


def test_a_failed_render_is_recorded_then_retried(make_course, learner, monkeypatch,
                                                  django_capture_on_commit_callbacks):
    course = make_course("flaky", tests=two_quizzes()[:1], videos=0)
    client = api(learner)

    def broken(text):
        raise OSError("disk full")

    monkeypatch.setattr("learning.certificates.render_certificate_pdf", broken)
    with django_capture_on_commit_callbacks(execute=True):
        pass_test(client, course, course.test_ids[0])
    certificate = Certificate.objects.get(user=learner)
    assert certificate.state == Certificate.State.FAILED and "disk full" in certificate.error
    response = client.get(f"/api/certificates/{certificate.id}/pdf/")
    assert response.status_code == 409 and "retried" in response.json()["detail"]

    monkeypatch.undo()
    assert retry_certificates() == [str(certificate.id)]
    certificate.refresh_from_db()
    assert certificate.state == Certificate.State.READY and certificate.error == ""
    pdf = client.get(f"/api/certificates/{certificate.id}/pdf/")
    assert pdf.status_code == 200
    # The retry (no request in sight) prints the address the learner used, kept at issue time.
    assert certificate.verify_url == f"http://testserver/certificates/verify/{certificate.code}/"
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert certificate.verify_url in text.replace("\n", "")


def test_a_pending_certificate_answers_409(make_course, learner):
    course = make_course("pending", tests=two_quizzes()[:1], videos=0)
    client = api(learner)
    # Without the commit callbacks the render task is never queued: the row stays pending.
    certificate_id = pass_test(client, course, course.test_ids[0])["certificate"]["id"]
    response = client.get(f"/api/certificates/{certificate_id}/pdf/")
    assert response.status_code == 409 and "prepared" in response.json()["detail"]


def test_the_private_store_is_swept_of_what_no_certificate_names(completed, learner):
    _course, _client, certificate = completed
    root = private_certificates_root()
    ready = root / f"{certificate.id}-{certificate.checksum}.pdf"
    stale = root / f"{uuid.uuid4()}-{'a' * 32}.pdf"
    fresh = root / f"{uuid.uuid4()}-{'b' * 32}.pdf"
    foreign = root / "notes.txt"
    for path in (stale, fresh, foreign):
        path.write_bytes(b"%PDF-1.4 leftover")
    two_hours_ago = time.time() - 2 * 3600
    os.utime(stale, (two_hours_ago, two_hours_ago))
    os.utime(ready, (two_hours_ago, two_hours_ago))
    os.utime(foreign, (two_hours_ago, two_hours_ago))

    assert sweep_certificate_store() == [stale.name]
    assert ready.exists() and fresh.exists() and foreign.exists()

    # A learner's account deleted: their certificate goes, and its PDF with the next sweep.
    learner.delete()
    assert sweep_certificate_store() == [ready.name]
