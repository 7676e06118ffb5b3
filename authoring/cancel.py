"""Cancel a draft: delete it and, right away, every stored file that only it referenced.

    cancel_draft(author, draft_id)

The seed deletes the files of a cancelled creation process at once. With a content-addressed
store the same bytes may also belong to another draft, a channel version, or an upload that is
being finished this very moment, so deletion asks every reference source under the store lock
(storage.gc.delete_if_unreferenced) instead of deleting the draft's files blindly. Encodes that
only this draft needed are cancelled. If the store is busy (a collection is running), the draft
is still gone and its upload registry entries stay behind without a draft: the hourly collector
(authoring.collector) finishes the job.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from authoring.drafts import get_draft
from authoring.errors import DraftNotEditableError
from authoring.models import Draft, DraftFile, UploadRecord
from authoring.uploads_area import partial_path
from storage.gc import StorageBusyError, delete_if_unreferenced
from storage.references import ReferenceSourceError

logger = logging.getLogger(__name__)


def cancel_draft(user: Any, draft_id: object) -> None:
    draft = get_draft(user, draft_id)
    with transaction.atomic():
        if not Draft.objects.filter(id=draft.id, state=Draft.State.OPEN).exists():
            draft.refresh_from_db()
            raise DraftNotEditableError(
                "This draft was published; it cannot be cancelled. Delete the course from the "
                "channel page instead." if draft.state == Draft.State.PUBLISHED else
                "This draft is being published right now; it cannot be cancelled.")
        files = list(DraftFile.objects.filter(draft=draft))
        checksums = {value for item in files for value in item.stored_checksums()}
        job_ids = {item.job_id for item in files if item.job_id is not None}
        record_ids = list(UploadRecord.objects.filter(draft_file__in=files)
                          .values_list("id", flat=True))
        draft.delete()
        _cancel_unneeded_encodes(job_ids)
    release_uploads(record_ids, checksums)


def release_uploads(record_ids: list[Any], checksums: set[str]) -> bool:
    """Delete the partial files and the stored bytes of uploads whose draft file is gone, then
    their registry entries. False if the store was busy (the collector retries later)."""
    records = list(UploadRecord.objects.filter(id__in=record_ids, draft_file__isnull=True))
    for record in records:
        partial_path(record).unlink(missing_ok=True)
    wanted = checksums | {record.checksum for record in records if record.checksum}
    try:
        delete_if_unreferenced(wanted)
    except (StorageBusyError, ReferenceSourceError) as error:
        logger.warning("stored files of removed uploads kept for now (%s); the hourly "
                       "collector deletes them", error)
        return False
    UploadRecord.objects.filter(id__in=[record.id for record in records]).delete()
    return True


def _cancel_unneeded_encodes(job_ids: set[Any]) -> None:
    """Encodes no remaining draft file waits for are cancelled (queued: at once; running: the
    worker stops at its next progress report and deletes what it made)."""
    from jobs.models import Job

    still_needed = set(DraftFile.objects.filter(job_id__in=job_ids)
                       .values_list("job_id", flat=True))
    unneeded = job_ids - still_needed
    if not unneeded:
        return
    now = timezone.now()
    Job.objects.filter(id__in=unneeded, state=Job.State.QUEUED).update(
        state=Job.State.CANCELLED, cancel_requested=True, finished_at=now, stage="cancelled")
    Job.objects.filter(id__in=unneeded, state=Job.State.RUNNING).update(cancel_requested=True)
