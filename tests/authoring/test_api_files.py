"""`/api/drafts/<id>/files/`: multipart and tus 1.0 uploads, edit, remove, who may do what."""

from __future__ import annotations

import base64
import hashlib
import io
import os

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from authoring.models import Draft, DraftFile, UploadRecord
from authoring.uploads_area import uploads_dir
from storage.models import StoredFile
from storage.paths import storage_path
from tests.authoring.factories import PDF, PNG
from tests.authoring.test_uploads import MP4_HEAD, encodes, pdf_bytes  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}
CHUNK = "application/offset+octet-stream"
MIB = 1024 * 1024


def token_client(user) -> APIClient:
    """Signed in the way scripts are: `Authorization: Token <key>`."""
    client = APIClient()
    token = Token.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def session_client(user, csrf: bool = True) -> APIClient:
    """Signed in the way pages are: a session cookie, and X-CSRFToken on unsafe requests."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    if csrf:
        secret = "a" * 32
        client.cookies["csrftoken"] = secret
        client.credentials(HTTP_X_CSRFTOKEN=secret)
    return client


def partial_files() -> list[str]:
    return os.listdir(uploads_dir()) if uploads_dir().is_dir() else []


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}"
                    for key, value in values.items())


def create(client, draft, size: int, filename: str = "big.pdf", **more: str):
    return client.post(f"/api/drafts/{draft.id}/files/", **TUS, HTTP_UPLOAD_LENGTH=str(size),
                       HTTP_UPLOAD_METADATA=metadata(filename=filename, **more))


def patch_chunk(client, location: str, offset: int, data: bytes, **extra):
    return client.generic("PATCH", location, data, content_type=CHUNK,
                          **{**TUS, "HTTP_UPLOAD_OFFSET": str(offset), **extra})


@pytest.fixture
def draft(author_user) -> Draft:
    return Draft.objects.create(owner=author_user, name="Fractions")


def test_options_tells_the_tus_capabilities(author_user, draft, settings):
    settings.MAX_UPLOAD_SIZE = 4 << 30
    response = token_client(author_user).options(f"/api/drafts/{draft.id}/files/")
    assert response.status_code == 204
    assert response["Tus-Resumable"] == "1.0.0" and response["Tus-Version"] == "1.0.0"
    assert response["Tus-Extension"] == "creation,termination"
    assert response["Tus-Max-Size"] == str(4 << 30)


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_a_tus_upload_in_three_chunks_of_megabytes_resumes_after_head(author_user, draft,
                                                                     make_client):
    client = make_client(author_user)
    # An 8 MiB chunk: far above DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), which only
    # `request.body` enforces; the chunk is streamed from the request instead.
    data = pdf_bytes(10 * MIB + 5)
    created = create(client, draft, len(data), description="The book", topic="Halves")
    assert created.status_code == 201, created.json()
    assert created["Tus-Resumable"] == "1.0.0"
    location = created["Location"]
    file_id = created.json()["id"]
    assert location == f"/api/drafts/{draft.id}/files/{file_id}/"
    assert created.json()["state"] == "Uploading" and created.json()["topic"] == "Halves"
    offset = 0
    for end in (1 * MIB, 9 * MIB, len(data)):
        head = client.head(location, **TUS)
        assert head.status_code == 200
        assert head["Upload-Offset"] == str(offset) and head["Upload-Length"] == str(len(data))
        assert head["Cache-Control"] == "no-store" and head["Tus-Resumable"] == "1.0.0"
        sent = patch_chunk(client, location, offset, data[offset:end])
        assert sent.status_code == 204, sent.content
        assert sent["Upload-Offset"] == str(end) and sent["Tus-Resumable"] == "1.0.0"
        offset = end
    assert client.head(location, **TUS)["Upload-Offset"] == str(len(data))
    body = client.get(location).json()
    assert body["state"] == "Finished" and body["progress"] == 100
    assert body["checksum"] == hashlib.md5(data).hexdigest()
    assert storage_path(body["checksum"], "pdf").read_bytes() == data


def test_a_session_chunk_without_the_csrf_token_is_refused(author_user, draft):
    created = create(session_client(author_user), draft, 100)
    response = patch_chunk(session_client(author_user, csrf=False), created["Location"], 0,
                           pdf_bytes(50))
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert DraftFile.objects.get().received == 0


def test_a_wrong_offset_is_409(author_user, draft):
    client = token_client(author_user)
    location = create(client, draft, 1000)["Location"]
    patch_chunk(client, location, 0, pdf_bytes(1000)[:400])
    response = patch_chunk(client, location, 100, b"x" * 10)
    assert response.status_code == 409 and response["Tus-Resumable"] == "1.0.0"
    assert "at byte 400, not 100" in response.json()["detail"]


def test_a_dropped_connection_then_head_then_resume_stores_the_right_bytes(author_user, draft):
    client = token_client(author_user)
    data = pdf_bytes(3 * MIB)
    location = create(client, draft, len(data))["Location"]
    arrived = 2 * MIB + 17
    # The body claims all the bytes, but the connection breaks after `arrived` of them.
    cut = patch_chunk(client, location, 0, b"", CONTENT_LENGTH=str(len(data)),
                      **{"wsgi.input": io.BytesIO(data[:arrived])})
    assert cut.status_code == 400 and "resume" in cut.json()["detail"]
    offset = int(client.head(location, **TUS)["Upload-Offset"])
    assert offset == arrived
    assert patch_chunk(client, location, offset, data[offset:]).status_code == 204
    checksum = client.get(location).json()["checksum"]
    assert checksum == hashlib.md5(data).hexdigest()
    assert hashlib.md5(storage_path(checksum, "pdf").read_bytes()).hexdigest() == checksum


@pytest.mark.parametrize(("method", "headers", "status"), [
    ("head", {}, 412),
    ("head", {"HTTP_TUS_RESUMABLE": "0.2.2"}, 412),
    ("patch", {"content_type": CHUNK}, 412),
    ("patch", {**TUS, "content_type": "application/octet-stream"}, 415),
    ("patch", {**TUS, "content_type": CHUNK}, 400),  # no Upload-Offset
])
def test_tus_rules(author_user, draft, method, headers, status):
    client = token_client(author_user)
    location = create(client, draft, 100)["Location"]
    if method == "head":
        response = client.head(location, **headers)
    else:
        response = client.generic("PATCH", location, b"%PDF-", **headers)
    assert response.status_code == status
    assert response["Tus-Resumable"] == "1.0.0"
    if status == 412:
        assert response["Tus-Version"] == "1.0.0"
    assert DraftFile.objects.get().received == 0


@pytest.mark.parametrize(("headers", "status", "words"), [
    ({"HTTP_TUS_RESUMABLE": "2.0.0", "HTTP_UPLOAD_LENGTH": "10"}, 412, "tus 1.0.0"),
    ({**TUS, "HTTP_UPLOAD_DEFER_LENGTH": "1"}, 400, "Upload-Defer-Length"),
    ({**TUS}, 400, "Upload-Length"),
    ({**TUS, "HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": "filename !!!"}, 400, "base64"),
    ({**TUS, "HTTP_UPLOAD_LENGTH": "10"}, 400, "filename"),
])
def test_tus_creation_needs_what_the_protocol_needs(author_user, draft, headers, status, words):
    response = token_client(author_user).post(f"/api/drafts/{draft.id}/files/", **headers)
    assert response.status_code == status and words in response.json()["detail"]
    assert not DraftFile.objects.exists()


def test_type_and_size_are_refused_with_clear_messages(author_user, draft, settings):
    settings.MAX_UPLOAD_SIZE = 10 * MIB
    client = token_client(author_user)
    wrong_type = create(client, draft, 100, filename="virus.exe")
    assert wrong_type.status_code == 415
    assert "“.exe” files cannot be part of a course" in wrong_type.json()["detail"]
    too_big = create(client, draft, 11 * MIB)
    assert too_big.status_code == 413
    assert "accepts is 10 MB" in too_big.json()["detail"]
    program = io.BytesIO(b"MZ\x90\x00")
    program.name = "setup.exe"
    plain = client.post(f"/api/drafts/{draft.id}/files/", {"file": program}, format="multipart")
    assert plain.status_code == 415 and "Allowed:" in plain.json()["detail"]
    assert not DraftFile.objects.exists() and not partial_files()


def test_bytes_that_are_not_a_pdf_are_refused_and_nothing_is_left(author_user, draft):
    client = token_client(author_user)
    fake = io.BytesIO(PNG)
    fake.name = "notes.pdf"
    response = client.post(f"/api/drafts/{draft.id}/files/", {"file": fake}, format="multipart")
    assert response.status_code == 415
    assert "bytes are not a PDF" in response.json()["detail"]
    assert not DraftFile.objects.exists() and not UploadRecord.objects.exists()
    assert not StoredFile.objects.exists() and not partial_files()
    # By tus: the file shows Error with the reason, and its bytes are gone.
    location = create(client, draft, len(PNG), filename="notes.pdf")["Location"]
    refused = patch_chunk(client, location, 0, PNG)
    assert refused.status_code == 415
    body = client.get(location).json()
    assert body["state"] == "Error" and "PNG image" in body["error"]
    assert not StoredFile.objects.exists() and not partial_files()


# `encodes` is test_uploads' fixture, imported above (hence the noqa).
def test_multipart_pdf_finishes_and_a_video_starts_encoding(author_user, draft,
                                                            encodes):  # noqa: F811
    client = session_client(author_user)
    pdf = io.BytesIO(PDF)
    pdf.name = "lesson.pdf"
    created = client.post(f"/api/drafts/{draft.id}/files/",
                          {"file": pdf, "description": "Lesson 1", "topic": "Halves"},
                          format="multipart")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["state"], body["checksum"], body["description"], body["topic"]) == (
        "Finished", hashlib.md5(PDF).hexdigest(), "Lesson 1", "Halves")
    video_bytes = MP4_HEAD + os.urandom(3000)
    video = io.BytesIO(video_bytes)
    video.name = "talk.mp4"
    created = client.post(f"/api/drafts/{draft.id}/files/", {"file": video, "description": "Talk"},
                          format="multipart")
    assert created.status_code == 201 and created.json()["state"] == "Processing"
    assert encodes == [DraftFile.objects.get(name="talk.mp4").id]
    listed = client.get(f"/api/drafts/{draft.id}/files/").json()
    assert listed["count"] == 2 and listed["next"] is None and listed["previous"] is None
    assert [item["name"] for item in listed["results"]] == ["lesson.pdf", "talk.mp4"]


def test_an_oversized_plain_upload_is_refused_before_its_body_is_read(author_user, draft):
    body = io.BytesIO(b"--x\r\n")  # the rest never comes: it must not be waited for
    response = session_client(author_user).generic(
        "POST", f"/api/drafts/{draft.id}/files/", b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(200 * MIB), **{"wsgi.input": body})
    assert response.status_code == 413 and "tus" in response.json()["detail"]
    assert body.tell() == 0


def test_json_patch_edits_and_delete_removes(author_user, draft):
    client = token_client(author_user)
    location = create(client, draft, len(PDF), filename="a.pdf")["Location"]
    patch_chunk(client, location, 0, PDF)
    checksum = hashlib.md5(PDF).hexdigest()
    changed = client.patch(location, {"description": "Read first", "topic": "Halves"},
                           format="json")
    assert changed.status_code == 200
    assert changed.json()["description"] == "Read first" and changed.json()["topic"] == "Halves"
    invalid = client.patch(location, {"state": "Finished"}, format="json")
    assert invalid.status_code == 400 and "state" in invalid.json()["errors"]
    deleted = client.delete(location, **TUS)
    assert deleted.status_code == 204 and deleted["Tus-Resumable"] == "1.0.0"
    assert client.get(location).status_code == 404
    assert not storage_path(checksum, "pdf").exists()


def test_the_same_bytes_in_two_drafts_are_freed_only_with_the_last(author_user, draft):
    client = token_client(author_user)
    other = Draft.objects.create(owner=author_user)
    locations = []
    for target in (draft, other):
        location = create(client, target, len(PDF), filename="same.pdf")["Location"]
        assert patch_chunk(client, location, 0, PDF).status_code == 204
        locations.append(location)
    checksum = hashlib.md5(PDF).hexdigest()
    assert StoredFile.objects.filter(checksum=checksum).count() == 1
    assert client.delete(locations[0]).status_code == 204
    assert storage_path(checksum, "pdf").exists()
    assert client.delete(locations[1]).status_code == 204
    assert not storage_path(checksum, "pdf").exists()


def test_others_drafts_are_404_learners_403_strangers_401(author_user, learner_user,
                                                          django_user_model, draft):
    location = create(token_client(author_user), draft, 100)["Location"]
    list_url = f"/api/drafts/{draft.id}/files/"
    other_author = token_client(django_user_model.objects.create_user("erin", role="author"))
    assert other_author.get(list_url).status_code == 404
    assert other_author.get(location).status_code == 404
    assert create(other_author, draft, 100).status_code == 404
    assert other_author.head(location, **TUS).status_code == 404
    assert patch_chunk(other_author, location, 0, PDF[:10]).status_code == 404
    assert other_author.delete(location).status_code == 404
    learner = token_client(learner_user)
    assert learner.get(list_url).status_code == 403
    assert patch_chunk(learner, location, 0, PDF[:10]).status_code == 403
    assert APIClient().get(list_url).status_code == 401
    assert DraftFile.objects.get().received == 0


def test_published_drafts_take_no_more_bytes(author_user, draft):
    client = token_client(author_user)
    location = create(client, draft, 100)["Location"]
    Draft.objects.filter(id=draft.id).update(state=Draft.State.PUBLISHED, published_version=1)
    response = patch_chunk(client, location, 0, PDF[:10])
    assert response.status_code == 409 and "cannot change" in response.json()["detail"]
    assert client.get(location).status_code == 200
