"""The hourly collector of the upload registry (the seed's cron job over `tmp_files`).

What it removes, each older than the grace period (`STORAGE_GC_GRACE_SECONDS`):

1. Registry entries whose draft file is gone (a cancel that could not finish, a crash
   between deleting a draft and its files): their partial file, and their stored bytes unless
   some reference source (a live draft, a channel version) still uses them.
2. Entries of drafts already published (publish deletes them; a crash in between left them):
   the entry only; the files belong to the course now.
3. Files in the uploads folder that no entry names (a crash before the entry was written).

It never touches an upload of a live draft, finished or still receiving: the author may
resume it at any time. Stored files nobody references (an encode killed after it stored its
outputs) are the storage collector's (`gcstorage`); leftovers in the temp area, `purgetemp`'s.
It also finishes what an encode that ended during a busy moment could not: a course published
while its videos encoded gets its update (authoring.publish.update_waiting_course), and a video
whose encode the reaper gave up on is marked Error.

    report = collect_upload_zombies()
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Any

from authoring.cancel import release_uploads
from authoring.models import Draft, DraftFile, UploadRecord
from authoring.uploads_area import partial_path, uploads_dir
from storage.gc import grace_seconds

logger = logging.getLogger(__name__)
BATCH = 500


@dataclass
class CollectorReport:
    orphaned_entries: int = 0
    published_entries: int = 0
    stray_partials: list[str] = field(default_factory=list)
    store_busy: bool = False
    failed_encodes: int = 0
    courses_updated: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect_upload_zombies(*, now: float | None = None,
                           grace: int | None = None) -> CollectorReport:
    started = time.time() if now is None else now
    grace = grace_seconds() if grace is None else grace
    cutoff = datetime.fromtimestamp(started, tz=dt_timezone.utc) - timedelta(seconds=grace)
    report = CollectorReport()
    orphans = list(UploadRecord.objects.filter(draft_file__isnull=True, updated_at__lt=cutoff)
                   .values_list("id", flat=True)[:BATCH])
    if orphans:
        if release_uploads(orphans, set()):
            report.orphaned_entries = len(orphans)
        else:
            report.store_busy = True
    published = UploadRecord.objects.filter(
        draft_file__draft__state=Draft.State.PUBLISHED, updated_at__lt=cutoff)
    report.published_entries = published.delete()[0]
    report.stray_partials = _remove_stray_partials(started - grace)
    from authoring.conversion import settle_abandoned_conversions
    from authoring.encoding import settle_abandoned_encodes

    report.failed_encodes = len(settle_abandoned_encodes()) + len(
        settle_abandoned_conversions())
    report.courses_updated = _update_waiting_courses()
    logger.info("collectuploads: %s", report.as_dict())
    return report


def _remove_stray_partials(cutoff: float) -> list[str]:
    folder = uploads_dir()
    if not folder.is_dir():
        return []
    known = {partial_path(record).name for record in UploadRecord.objects.only("partial_name")}
    removed = []
    for entry in sorted(folder.iterdir())[:100_000]:
        if entry.name in known or not entry.is_file():
            continue
        # mtime, not ctime: partial files are written in place, never renamed in.
        if entry.stat().st_mtime < cutoff:
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return removed


def _update_waiting_courses() -> list[str]:
    from authoring.errors import PublishConflictError
    from authoring.publish import update_waiting_course

    updated = []
    for draft in Draft.objects.filter(state=Draft.State.PUBLISHED, awaiting_encodes=True):
        still = draft.files.filter(node_id__in=draft.waiting_nodes,
                                   state=DraftFile.State.PROCESSING)
        if still.exists():
            continue
        try:
            if update_waiting_course(draft.id) is not None:
                updated.append(draft.channel_id)
        except PublishConflictError:
            continue
    return updated
