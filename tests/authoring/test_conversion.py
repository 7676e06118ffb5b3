"""Office documents get a PDF copy in the background when LibreOffice is there: through the
jobs service in Huey's immediate mode with real soffice; upload, publish and the learner's page
included. Without LibreOffice (the finder monkeypatched) nothing is converted and the page
says how to enable it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

import authoring.conversion as conversion
import media.office
from authoring.cancel import cancel_draft
from authoring.conversion import (
    KIND,
    clean_convert,
    settle_abandoned_conversions,
    start_conversion,
)
from authoring.models import Draft, DraftFile
from authoring.publish import publish_draft
from authoring.serializers import effective_state
from authoring.uploads import receive_whole_file
from channels.models import Channel
from jobs.errors import InvalidJobParamsError
from jobs.models import Job
from storage.paths import storage_path, storage_root
from tests.authoring.factories import stored_draft_file
from tests.media.test_office import CORRUPT_DOCX, docx_bytes, odt_bytes, pdf_text

pytestmark = pytest.mark.django_db
WORDS = "Photosynthesis turns sunlight into sugar."


@pytest.fixture(autouse=True)
def every_progress_written(settings) -> None:
    settings.JOBS = {"PROGRESS_WRITE_SECONDS": 0}


@pytest.fixture
def draft(author_user) -> Draft:
    return Draft.objects.create(owner=author_user, name="Biology")


@pytest.fixture
def without_libreoffice(monkeypatch) -> None:
    def missing() -> str:
        raise media.office.OfficeNotFoundError("LibreOffice (soffice) is not installed: "
                                               + media.office.INSTALL_HINT)

    monkeypatch.setattr(media.office, "soffice_binary", missing)


def document(draft: Draft, data: bytes, name: str = "lesson.docx") -> DraftFile:
    return stored_draft_file(draft, data, name, file_type="office",
                             state=DraftFile.State.PROCESSING)


def convert(item: DraftFile, on_commit) -> Job:
    """What the upload code does once the bytes are stored; the job runs at the commit."""
    with on_commit(execute=True):
        start_conversion(item)
    item.refresh_from_db()
    assert item.job is not None
    return Job.objects.get(id=item.job_id)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_params_are_a_checksum_and_an_office_extension():
    good = {"checksum": "a" * 32, "extension": "docx"}
    assert clean_convert(good) == good
    for bad in ({**good, "checksum": "A" * 32}, {**good, "checksum": "a" * 31 + "\n"},
                {**good, "extension": "pdf"}, {**good, "extra": 1}):
        with pytest.raises(InvalidJobParamsError):
            clean_convert(bad)


@pytest.mark.parametrize("name, build", [("lesson.docx", docx_bytes), ("lesson.odt", odt_bytes)])
def test_a_document_gets_a_pdf_copy_with_its_words(draft, author_user, name, build,
                                                   django_capture_on_commit_callbacks):
    item = document(draft, build(WORDS, "Chlorophyll makes leaves green."), name)
    job = convert(item, django_capture_on_commit_callbacks)

    assert job.state == Job.State.DONE, job.error
    assert (job.kind, job.created_by_id, job.progress) == (KIND, author_user.id, 100)
    item.refresh_from_db()
    assert (item.state, item.progress, item.error) == (DraftFile.State.FINISHED, 100, "")
    assert set(item.outputs) == {"pdf"}
    text = pdf_text(storage_path(item.outputs["pdf"], "pdf"))
    assert WORDS in text and "Chlorophyll makes leaves green." in text
    assert item.stored_checksums() == {item.checksum, item.outputs["pdf"]}
    assert effective_state(item) == (DraftFile.State.FINISHED, 100, "")
    assert list(Path(conversion.temp_root()).glob("convert-*")) == []


def test_files_with_the_same_bytes_share_one_conversion(author_user,
                                                        django_capture_on_commit_callbacks):
    data = odt_bytes("Shared notes")
    first = document(Draft.objects.create(owner=author_user, name="A"), data, "a.odt")
    second = document(Draft.objects.create(owner=author_user, name="B"), data, "b.odt")
    with django_capture_on_commit_callbacks(execute=False) as enqueues:
        start_conversion(first)
        start_conversion(second)
    assert len(enqueues) == 1
    for enqueue in enqueues:
        enqueue()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.job_id == second.job_id is not None
    assert first.state == second.state == DraftFile.State.FINISHED
    assert first.outputs == second.outputs != {}


def test_a_corrupt_document_ends_in_error_with_libreoffices_reason(
        draft, django_capture_on_commit_callbacks, content_dir):
    item = document(draft, CORRUPT_DOCX, "broken.docx")
    job = convert(item, django_capture_on_commit_callbacks)

    assert job.state == Job.State.FAILED
    assert "source file could not be loaded" in job.error
    item.refresh_from_db()
    assert item.state == DraftFile.State.ERROR and item.outputs == {}
    assert item.error.startswith("This document could not be converted to PDF: ")
    assert "source file could not be loaded" in item.error
    assert str(content_dir) not in item.error  # no server paths shown to the author
    assert effective_state(item)[0] == DraftFile.State.ERROR


def test_a_conversion_past_its_time_limit_is_stopped(draft, settings,
                                                     django_capture_on_commit_callbacks):
    settings.CONVERT_TIMEOUT_SECONDS = 0.3
    item = document(draft, odt_bytes("Slow"), "slow.odt")
    job = convert(item, django_capture_on_commit_callbacks)
    assert job.state == Job.State.FAILED
    item.refresh_from_db()
    assert item.state == DraftFile.State.ERROR and "longer than 0.3 s" in item.error


def test_libreoffice_gone_since_the_upload_leaves_a_plain_download(
        draft, without_libreoffice, django_capture_on_commit_callbacks):
    item = document(draft, odt_bytes("Notes"), "notes.odt")
    job = convert(item, django_capture_on_commit_callbacks)
    assert job.state == Job.State.FAILED and "apt install libreoffice" in job.error
    item.refresh_from_db()
    assert (item.state, item.outputs, item.error) == (DraftFile.State.FINISHED, {}, "")


def run_with_draft_gone(item: DraftFile, draft: Draft, monkeypatch, on_commit, remove) -> Job:
    """Convert `item` while `remove(draft)` runs in the middle of soffice's work."""
    real = conversion.convert_to_pdf

    def remove_then_convert(source, work, *, timeout):
        remove(draft)
        return real(source, work, timeout=timeout)

    monkeypatch.setattr(conversion, "convert_to_pdf", remove_then_convert)
    with on_commit(execute=True):
        start_conversion(item)
    return Job.objects.get(kind=KIND)


def test_a_draft_cancelled_while_converting_stops_the_job_and_stores_nothing(
        draft, author_user, monkeypatch, django_capture_on_commit_callbacks):
    item = document(draft, odt_bytes("Cancelled notes"), "notes.odt")
    job = run_with_draft_gone(item, draft, monkeypatch, django_capture_on_commit_callbacks,
                              lambda draft: cancel_draft(author_user, draft.id))
    assert job.state == Job.State.CANCELLED
    assert not DraftFile.objects.exists()
    assert list(conversion.temp_root().glob("convert-*")) == []
    assert not list(storage_root().rglob("*.pdf"))


def test_a_pdf_whose_draft_vanished_meanwhile_is_deleted_again(
        draft, monkeypatch, django_capture_on_commit_callbacks):
    """The seed's check after the work: the rows went away (a cancel racing the job's last
    check), so the PDF just stored is deleted unless something else uses it."""
    item = document(draft, odt_bytes("Vanished notes"), "notes.odt")
    job = run_with_draft_gone(item, draft, monkeypatch, django_capture_on_commit_callbacks,
                              lambda draft: Draft.objects.filter(id=draft.id).delete())
    assert job.state == Job.State.DONE, job.error
    (made,) = job.result["outputs"].values()
    assert job.result["deleted"] == [made] and job.result["files"] == 0
    assert not storage_path(made, "pdf").exists()


def test_a_job_the_reaper_gave_up_on_settles_its_files_in_error(draft):
    item = document(draft, odt_bytes("Notes"), "notes.odt")
    job = Job.objects.create(kind=KIND, state=Job.State.FAILED, error="worker kept dying",
                             params={"checksum": item.checksum, "extension": "odt"})
    DraftFile.objects.filter(id=item.id).update(job=job)
    assert settle_abandoned_conversions() == [str(item.id)]
    item.refresh_from_db()
    assert (item.state, item.error) == (DraftFile.State.ERROR, "worker kept dying")
    assert settle_abandoned_conversions() == []


# The upload starts it --------------------------------------------------------------------------

def upload(user, draft: Draft, data: bytes, name: str) -> DraftFile:
    return receive_whole_file(user, draft.id, SimpleUploadedFile(name, data))


def test_an_uploaded_document_is_processing_then_finished_with_a_pdf(
        author_user, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        item = upload(author_user, draft, docx_bytes(WORDS), "lesson.docx")
    assert item.state == DraftFile.State.PROCESSING and item.job is not None
    assert item.job.kind == KIND and len(enqueued) == 1
    enqueued[0]()
    item.refresh_from_db()
    assert item.state == DraftFile.State.FINISHED and WORDS in pdf_text(
        storage_path(item.outputs["pdf"], "pdf"))


def test_without_libreoffice_an_upload_is_finished_at_once_and_nothing_converts(
        author_user, draft, without_libreoffice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        item = upload(author_user, draft, docx_bytes(WORDS), "lesson.docx")
    assert (item.state, item.job, item.outputs) == (DraftFile.State.FINISHED, None, {})
    assert enqueued == [] and not Job.objects.filter(kind=KIND).exists()


def test_a_conversion_that_cannot_start_leaves_the_document_as_a_download(
        author_user, draft, monkeypatch):
    def refuse(item):
        raise RuntimeError("queue unreachable")

    monkeypatch.setattr(conversion, "start_conversion", refuse)
    item = upload(author_user, draft, odt_bytes("Notes"), "notes.odt")
    assert (item.state, item.error) == (DraftFile.State.FINISHED, "")


# Published: the PDF plays, the original stays listed -------------------------------------------

def node_detail(client, channel_id: str, node_id: str) -> dict:
    response = client.get(f"/api/content/{channel_id}/contentnode/{node_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_published_document_plays_its_pdf_and_lists_the_original(
        author_user, draft, django_capture_on_commit_callbacks, client):
    item = document(draft, docx_bytes(WORDS), "lesson.docx")
    convert(item, django_capture_on_commit_callbacks)
    item.refresh_from_db()
    result = publish_draft(author_user, draft.id)
    assert result.waiting == 0

    detail = node_detail(api(author_user), draft.channel_id, item.node_id)
    assert detail["kind"] == "document" and detail["available"] is True
    essential = detail["rendering"]["essential_file"]
    assert (detail["rendering"]["player"], essential["preset"], essential["extension"]) == (
        "pdf", "document", "pdf")
    assert essential["checksum"] == item.outputs["pdf"]
    files = {(file["preset"], file["extension"], file["checksum"]) for file in detail["files"]}
    assert files == {("document", "pdf", item.outputs["pdf"]),
                     ("office_document", "docx", item.checksum)}

    html = client.get(f"/channels/{draft.channel_id}/content/{item.node_id}/").content.decode()
    assert re.search(r'<object class="player__pdf" data="/content/storage/[^"]+\.pdf"', html)
    assert "install LibreOffice" not in html and "installs LibreOffice" not in html
    # The original is offered beside its PDF copy.
    assert re.search(r'<a href="/content/storage/[^"]+\.docx" download>Download DOCX</a>', html)


def test_a_course_published_while_converting_gets_the_pdf_in_its_next_version(
        author_user, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        start_conversion(document(draft, odt_bytes(WORDS), "lesson.odt"))
    item = draft.files.get()
    first = publish_draft(author_user, draft.id)
    assert first.waiting == 1
    client = api(author_user)
    before = node_detail(client, draft.channel_id, item.node_id)
    assert [file["extension"] for file in before["files"]] == ["odt"]  # a download meanwhile

    enqueued[0]()  # the conversion runs and ends
    channel = Channel.objects.get(id=draft.channel_id)
    assert channel.version == first.version + 1
    after = node_detail(client, draft.channel_id, item.node_id)
    assert after["rendering"]["essential_file"]["extension"] == "pdf"
    assert sorted(file["extension"] for file in after["files"]) == ["odt", "pdf"]
    draft.refresh_from_db()
    assert draft.awaiting_encodes is False


def test_without_libreoffice_the_page_offers_the_original_and_says_how_to_enable_it(
        author_user, draft, without_libreoffice, client):
    item = upload(author_user, draft, docx_bytes(WORDS), "lesson.docx")
    publish_draft(author_user, draft.id)
    detail = node_detail(api(author_user), draft.channel_id, item.node_id)
    assert detail["rendering"]["essential_file"]["preset"] == "office_document"

    html = client.get(f"/channels/{draft.channel_id}/content/{item.node_id}/").content.decode()
    assert re.search(r'<a href="/content/storage/[^"]+\.docx" download>Download DOCX</a>', html)
    assert "the server's admin installs LibreOffice" in html
    assert "apt install libreoffice-writer-nogui" in html
    assert "cannot play here yet" not in html


# In a REAL consumer process (STYLE 36): where crashes, retries and stuck states show up ------

CREATE_DOCUMENTS = """
import json
from django.contrib.auth import get_user_model
from authoring.conversion import start_conversion
from authoring.models import Draft, DraftFile
from storage.files import put_file
owner = get_user_model().objects.filter(username="bob").first() or \\
    get_user_model().objects.create_user("bob", password="bob-pass", role="author")
made = {}
for name, path in json.loads(%r):
    stored = put_file(open(path, "rb"), "docx")
    draft = Draft.objects.create(owner=owner, name=name)
    item = DraftFile.objects.create(
        draft=draft, name=name + ".docx", file_type="office", extension="docx",
        size=stored.size, received=stored.size, checksum=stored.checksum, state="Processing")
    start_conversion(item)
    item.refresh_from_db()
    made[name] = {"file": str(item.id), "job": str(item.job_id)}
print(json.dumps(made))
"""


@pytest.fixture(scope="module")
def server_home(tmp_path_factory):
    from tests.servers import ServerProcess

    server = ServerProcess(tmp_path_factory.mktemp("convert-server"))
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    yield server
    server.drop_database()


@pytest.mark.server
def test_a_real_consumer_converts_survives_a_corrupt_file_and_a_kill(server_home, tmp_path):
    from tests.authoring.test_encode_consumer import (
        REAP_LATER,
        Consumer,
        ServerDatabase,
        shell,
        stored,
        wait_until,
    )

    database = ServerDatabase(server_home)

    def create(documents: dict[str, bytes]) -> dict[str, dict[str, str]]:
        for name, data in documents.items():
            (tmp_path / f"{name}.docx").write_bytes(data)
        return shell(server_home, CREATE_DOCUMENTS % json.dumps(
            [[name, str(tmp_path / f"{name}.docx")] for name in documents]))

    made = create({"lesson": docx_bytes(WORDS), "broken": CORRUPT_DOCX})
    first = Consumer(server_home, "first")
    try:
        wait_until(lambda: all(database.job(item["job"])["state"] in ("done", "failed")
                               for item in made.values()), "both conversions ended",
                   first.log_path)
        assert first.process.poll() is None, "the consumer died"
    finally:
        first.stop()
    lesson = database.draft_file(made["lesson"]["file"])
    assert lesson["state"] == "Finished", (lesson, first.log_path.read_text()[-3000:])
    assert WORDS in pdf_text(stored(server_home, lesson["outputs"]["pdf"], "pdf"))
    broken = database.draft_file(made["broken"]["file"])
    assert broken["state"] == "Error" and "could not be loaded" in broken["error"], broken
    assert database.job(made["broken"]["job"])["state"] == "failed"

    # Long enough (some seconds) to be caught running, then the worker dies (SIGKILL).
    long_document = docx_bytes(*[f"Retried after a crash, paragraph {number}."
                                 for number in range(6000)])
    made = create({"killed": long_document})
    second = Consumer(server_home, "killed")
    try:
        wait_until(lambda: database.job(made["killed"]["job"])["state"] == "running",
                   "the conversion started", second.log_path)
    finally:
        second.kill()
    assert database.draft_file(made["killed"]["file"])["state"] == "Processing"
    assert shell(server_home, REAP_LATER)["requeued"] == [made["killed"]["job"]]

    third = Consumer(server_home, "third")
    try:
        wait_until(lambda: database.job(made["killed"]["job"])["state"] in ("done", "failed"),
                   "the retried conversion ended", third.log_path)
    finally:
        third.stop()
    job = database.job(made["killed"]["job"])
    assert (job["state"], job["attempts"]) == ("done", 2), job
    killed = database.draft_file(made["killed"]["file"])
    assert killed["state"] == "Finished"
    text = pdf_text(stored(server_home, killed["outputs"]["pdf"], "pdf"))
    assert "paragraph 0." in text and "paragraph 5999." in text
