"""`checkinvariants` names what drafts break: a missing upload, a publish stuck by a crash, a
video left Processing after its encode ended."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from authoring.models import Draft, DraftFile
from jobs.models import Job
from storage.paths import storage_path
from tests.authoring.factories import PDF, stored_draft_file

pytestmark = pytest.mark.django_db


def violations(capsys) -> str:
    with pytest.raises(CommandError):
        call_command("checkinvariants")
    return capsys.readouterr().out


def test_healthy_drafts_pass(author_user, capsys):
    draft = Draft.objects.create(owner=author_user, name="Fine")
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    call_command("checkinvariants")
    assert "All invariants hold" in capsys.readouterr().out


def test_a_missing_upload_is_named(author_user, capsys):
    draft = Draft.objects.create(owner=author_user, name="Broken")
    item = stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    storage_path(item.checksum, "pdf").unlink()
    assert "intro.pdf" in violations(capsys)


def test_a_stuck_publish_and_a_stuck_video_are_named(author_user, capsys):
    draft = Draft.objects.create(owner=author_user, name="Stuck", state=Draft.State.PUBLISHING)
    video = stored_draft_file(draft, b"raw", "lesson.mov", file_type="video",
                              state=DraftFile.State.PROCESSING)
    DraftFile.objects.filter(id=video.id).update(
        job=Job.objects.create(kind="encode", state=Job.State.DONE))
    out = violations(capsys)
    assert "stuck mid-publish" in out and "lesson.mov shows Processing" in out
