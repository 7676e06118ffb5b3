"""The authoring part of `checkinvariants`: what drafts promise (DESIGN.md invariant 3).

1. every stored file a live draft references (uploads, encoded outputs, test-set images)
   exists in the store with its recorded size;
2. no draft stuck "publishing" (a publish cut off by a crash; `recover` settles it), unless its
   course is being published right now;
3. no video "Processing" whose encode job finished without writing its outputs, or that
   has no encode at all (it would show Processing forever; a failed encode shows Error).

    check_drafts(report)      # report: channels.invariants.InvariantReport
"""

from __future__ import annotations

from typing import Any

from authoring.errors import PublishConflictError
from authoring.models import Draft, DraftFile
from authoring.publish import course_update_lock
from storage.paths import storage_path

BATCH = 2000


def check_drafts(report: Any) -> None:
    _check_draft_files(report)
    _check_publishing(report)
    _check_processing(report)


def _check_draft_files(report: Any) -> None:
    live = (DraftFile.objects.filter(draft__state__in=(Draft.State.OPEN,
                                                       Draft.State.PUBLISHING))
            .exclude(checksum="").values_list("draft_id", "name", "checksum", "extension",
                                              "size", "outputs"))
    for draft_id, name, checksum, extension, size, outputs in live.iterator(BATCH):
        expected = [(checksum, extension, size)]
        expected += [(value, key, None) for key, value in (outputs or {}).items()
                     if key in ("mp4", "webm", "ogv", "png", "pdf") and isinstance(value, str)]
        for stored, ext, wanted_size in expected:
            path = storage_path(stored, ext)
            if not path.is_file():
                report.add("drafts", f"file {name} ({stored}.{ext}) of a live draft is missing "
                           "from the store", f"draft {draft_id}",
                           "upload the file again in the draft (remove it, then add it)")
            elif wanted_size is not None and path.stat().st_size != wanted_size:
                report.add("drafts", f"file {name} ({stored}.{ext}) has "
                           f"{path.stat().st_size} bytes, not {wanted_size}", f"draft {draft_id}",
                           "run `verifystorage --repair`, then upload the file again")


def _check_publishing(report: Any) -> None:
    for draft in Draft.objects.filter(state=Draft.State.PUBLISHING):
        try:
            with course_update_lock(draft):
                report.add("drafts", "draft stuck mid-publish", f"draft {draft.id}",
                           "run `recover`")
        except PublishConflictError:
            continue


def _check_processing(report: Any) -> None:
    from jobs.models import Job

    stuck = (DraftFile.objects.filter(state=DraftFile.State.PROCESSING)
             .filter(job__state=Job.State.DONE).values_list("draft_id", "name", "job_id"))
    for draft_id, name, job_id in stuck.iterator(BATCH):
        report.add("drafts", f"video {name} shows Processing but its encode (task {job_id}) "
                   "ended", f"draft {draft_id}",
                   "remove the video from the draft and upload it again")
    orphaned = DraftFile.objects.filter(state=DraftFile.State.PROCESSING, job__isnull=True,
                                        draft__state__in=(Draft.State.OPEN,
                                                          Draft.State.PUBLISHING))
    for draft_id, name in orphaned.values_list("draft_id", "name").iterator(BATCH):
        report.add("drafts", f"video {name} shows Processing but no encode is queued",
                   f"draft {draft_id}", "remove the video from the draft and upload it again")
