"""The import, export and resume kinds over the real transfer services (channels.transfer),
run in Huey's immediate mode: what the web UI's buttons start."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import pytest
from django.db import connections

from channels.models import Channel, ContentImport
from channels.selectors import forget_channel_state
from channels.transfer.disk import export_content_to_disk
from channels.transfer.imports import unfinished_imports
from jobs.models import Job
from jobs.runners import JobProgress
from jobs.services import start_job
from routers.ids import is_valid_channel_id
from routers.registry import unregister_alias
from storage.models import StoredFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def drive(tmp_path: Path) -> Path:
    path = tmp_path / "usb"
    path.mkdir()
    return path


@pytest.fixture
def other_school(settings, tmp_path: Path) -> Callable[[], Path]:
    """Become another, empty server (new content folder, empty registry); the drive stays."""

    def switch() -> Path:
        for alias in list(connections.settings):
            if is_valid_channel_id(alias):
                unregister_alias(alias)
        Channel.objects.all().delete()
        StoredFile.objects.all().delete()
        forget_channel_state()
        root = tmp_path / "other-school"
        settings.CONTENT_DIR = root
        settings.CONTENT_STORAGE_DIR = root / "storage"
        settings.CONTENT_DATABASE_DIR = root / "databases"
        settings.CONTENT_TEMP_DIR = root / "tmp"
        for folder in ("storage", "databases", "tmp"):
            (root / folder).mkdir(parents=True)
        return root

    return switch


def run(user, on_commit, body: dict[str, object]) -> Job:
    with on_commit():
        job = start_job(user, body)
    job.refresh_from_db()
    return job


def stored(content: Path) -> dict[str, str]:
    return {path.name: hashlib.md5(path.read_bytes()).hexdigest()
            for path in (content / "storage").rglob("*") if path.is_file()}


def test_an_export_task_writes_the_channel_to_a_drive(make_channel, admin_user, on_commit,
                                                      drive, content_dir):
    built = make_channel("maths")
    job = run(admin_user, on_commit, {"kind": "export", "channel_id": built.channel_id,
                                      "drive": str(drive)})
    assert job.state == Job.State.DONE, job.error
    data = drive / "KOLIBRI_DATA" / "content"
    assert (data / "databases" / f"{built.channel_id}.sqlite3").is_file()
    assert (data / "manifest.json").is_file()
    assert stored(data) == stored(content_dir)
    assert job.result["export"]["copied"] == built.file_count
    assert job.result["export"]["failures"] == 0 and job.progress == 100
    assert set(job.stages) >= {"files", "bytes"}
    assert job.summary == f"{built.file_count} files copied, 0 already on the drive"


def test_an_import_task_installs_the_channel_and_its_files(make_channel, admin_user, on_commit,
                                                            drive, other_school):
    built = make_channel("maths")
    export_content_to_disk(built.channel_id, drive)
    content = other_school()
    job = run(admin_user, on_commit, {"kind": "import", "source": "disk",
                                      "channel_id": built.channel_id, "drive": str(drive)})
    assert job.state == Job.State.DONE, job.error
    channel = Channel.objects.get(id=built.channel_id)
    assert channel.state == Channel.State.AVAILABLE and channel.version == 1
    assert channel.versions.get().created_by == admin_user
    assert len(stored(content)) == built.file_count
    assert job.result["channel"]["installed"] is True
    assert job.result["content"]["copied"] == built.file_count
    assert job.summary == f"version 1 installed; {built.file_count} files copied, 0 already here"


def test_an_older_version_on_the_drive_fails_with_the_reason(make_channel, admin_user,
                                                             on_commit, drive):
    built = make_channel("maths")
    export_content_to_disk(built.channel_id, drive)
    make_channel("maths", channel_id=built.channel_id)           # version 2 here now
    job = run(admin_user, on_commit, {"kind": "import", "source": "disk",
                                      "channel_id": built.channel_id, "drive": str(drive)})
    assert job.state == Job.State.FAILED
    assert job.error.startswith(f"version 1 of channel {built.channel_id} is not newer")
    assert "\n" not in job.error and "Traceback" not in job.error
    assert Channel.objects.get(id=built.channel_id).version == 2


def test_cancelling_an_import_leaves_it_resumable(make_channel, admin_user, on_commit, drive,
                                                  other_school, monkeypatch):
    built = make_channel("maths", topics=3, leaves=4)
    export_content_to_disk(built.channel_id, drive)
    content = other_school()
    real_update = JobProgress.update
    copied_at_cancel: list[int] = []

    def cancel_while_copying(self: JobProgress, stage: str, done: int, total: int) -> None:
        if stage == "files" and done == 3 and not copied_at_cancel:
            copied_at_cancel.append(len(stored(content)))
            Job.objects.filter(id=self.job_id).update(cancel_requested=True)  # DELETE does
        real_update(self, stage, done, total)

    monkeypatch.setattr(JobProgress, "update", cancel_while_copying)
    job = run(admin_user, on_commit, {"kind": "import", "source": "disk",
                                      "channel_id": built.channel_id, "drive": str(drive)})
    assert job.state == Job.State.CANCELLED and job.error == ""
    # Files are stored in batches (storage.batch): when the third is reported checked, fewer
    # may be in place yet; the cancel ends the batch, and every checked file is kept, whole.
    assert copied_at_cancel and copied_at_cancel[0] <= 3
    assert len(stored(content)) == 3, "the files checked before the cancel are kept, whole"
    assert sorted(path.name for path in (content / "tmp").iterdir()) == []
    row = ContentImport.objects.get(channel_id=built.channel_id)
    assert row.state == ContentImport.State.INTERRUPTED
    [unfinished] = unfinished_imports()
    assert unfinished.id == row.pk

    monkeypatch.setattr(JobProgress, "update", real_update)
    resumed = run(admin_user, on_commit, {"kind": "resume", "import_id": row.pk})
    assert resumed.state == Job.State.DONE, resumed.error
    assert resumed.channel_id == built.channel_id
    assert resumed.result["content"]["already_present"] == 3
    assert resumed.result["content"]["copied"] == built.file_count - 3
    assert len(stored(content)) == built.file_count
    assert unfinished_imports() == []


def test_resuming_needs_an_unfinished_import(admin_user):
    from jobs.errors import InvalidJobParamsError

    for value in (None, 0, "x", True, 99):
        with pytest.raises(InvalidJobParamsError) as error:
            start_job(admin_user, {"kind": "resume", "import_id": value})
        assert error.value.field == "import_id"


def test_importing_from_a_drive_that_was_removed_fails_clearly(admin_user, on_commit, drive):
    channel_id = "c" * 32
    with on_commit():
        job = start_job(admin_user, {"kind": "import", "source": "disk",
                                     "channel_id": channel_id, "drive": str(drive)})
        drive.rmdir()                                # pulled out before the worker starts
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert str(drive) in job.error and "Unexpected" not in job.error
