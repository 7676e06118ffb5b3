"""What the background jobs that prepare an upload share: a video's encode and a document's
conversion to PDF (authoring.encoding, authoring.conversion).

Each is one job per source checksum (two drafts holding the same bytes share it), the draft
files it serves show Processing while it runs, and when it ends the courses published
meanwhile get their next version (authoring.publish.encode_finished). What differs, the work
itself, stays in each module.

    VIDEO_JOBS = FileJobKind(kind="encode", file_type="video", extensions=(...),
                             cancelled_message="The encode was cancelled; ...")
    VIDEO_JOBS.start(draft_file)           # Processing, and a job queued or joined
    VIDEO_JOBS.settle_abandoned()          # for the hourly collector
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from django.db import transaction
from django.db.models import QuerySet

from authoring.models import DraftFile
from jobs.errors import InvalidJobParamsError
from jobs.models import Job
from jobs.params import reject_unknown_params
from jobs.services import enqueue_job
from storage.gc import delete_if_unreferenced
from storage.models import StoredFile
from storage.paths import storage_path

logger = logging.getLogger(__name__)
CHECKSUM_RE = re.compile(r"[0-9a-f]{32}")
# The stage a job writes in the transaction that stores its outputs and marks the rows: a job
# there can no longer be joined (a file joining then would stay Processing for ever).
FINAL_STAGE = "saving"


@dataclass(frozen=True)
class FileJobKind:
    kind: str
    file_type: str
    extensions: tuple[str, ...]
    # What the author reads when the job was cancelled under the file.
    cancelled_message: str

    def clean(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        reject_unknown_params(raw, {"checksum", "extension"})
        checksum = raw.get("checksum")
        if not isinstance(checksum, str) or not CHECKSUM_RE.fullmatch(checksum):
            raise InvalidJobParamsError("checksum", "the MD5 of a stored file: 32 lowercase "
                                        "hex characters")
        extension = raw.get("extension")
        if not isinstance(extension, str) or extension not in self.extensions:
            raise InvalidJobParamsError("extension", f"one of {', '.join(self.extensions)}")
        return {"checksum": checksum, "extension": extension}

    def rows(self, checksum: str) -> QuerySet[DraftFile]:
        """Every draft file this kind of job serves for these bytes, in any draft."""
        return DraftFile.objects.filter(checksum=checksum, file_type=self.file_type)

    def start(self, draft_file: DraftFile) -> None:
        """Mark the file Processing and make sure a job for its bytes is queued or running.

        Every file of this type with the same bytes that is Processing without an active job
        is linked to that job too (a job that failed or was cancelled before them).
        """
        params = self.clean({"checksum": draft_file.checksum,
                             "extension": draft_file.extension.lower()})
        checksum = params["checksum"]
        owner_id = DraftFile.objects.filter(pk=draft_file.pk).values_list(
            "draft__owner_id", flat=True).first()
        with transaction.atomic():
            DraftFile.objects.filter(pk=draft_file.pk).update(
                state=DraftFile.State.PROCESSING, progress=0, error="")
            # Locks the job row on PostgreSQL: a job inside its final transaction is
            # re-checked after that commits, and then no longer joinable (SQLite serializes
            # writers anyway).
            job = (Job.objects.select_for_update().active()
                   .filter(kind=self.kind, params__checksum=checksum)
                   .exclude(state=Job.State.RUNNING, stage=FINAL_STAGE)
                   .order_by("created_at").first())
            if job is None:
                job = Job.objects.create(kind=self.kind, params=params, created_by_id=owner_id)
                transaction.on_commit(partial(enqueue_job, str(job.id)))
            (self.rows(checksum).filter(state=DraftFile.State.PROCESSING)
             .exclude(job_id__in=Job.objects.active().values("id"))
             .update(job=job))
        draft_file.refresh_from_db(fields=["state", "progress", "error", "job"])

    def end_in_error(self, context: Any, checksum: str, error: Exception, *,
                     translate: Callable[[Exception], Exception],
                     message: Callable[[Exception], str]) -> NoReturn:
        """A handler's work failed: the files show Error with a sentence for the author, waiting
        courses are told, and the job fails with that error (`translate` turns a tool's failure
        into the domain error the author reads). Called from the handler's `except Exception`:
        a cancel (JobCancelledError, a BaseException) never gets here, so a cancelled job, or
        one the reaper gave to another delivery, never writes Error over that delivery's work;
        and a failure a cancel caused (its files went away) ends as that cancel, here."""
        context.progress.check()
        failure = translate(error)
        self.mark_failed(checksum, message(failure))
        job_ended(checksum)
        if failure is error:
            raise error
        raise failure from None

    def mark_failed(self, checksum: str, message: str) -> None:
        # A row already Finished (by an earlier job) keeps its outputs.
        self.rows(checksum).exclude(state=DraftFile.State.FINISHED).update(
            state=DraftFile.State.ERROR, progress=0, error=message)

    def settle_abandoned(self) -> list[str]:
        """Files still Processing whose job ended without marking them (the reaper gave up on
        a worker killed too often; an admin cancelled the task) go to Error with the job's
        reason, and courses published meanwhile stop waiting for them. Returns the ids of the
        files settled. For the hourly collector."""
        abandoned = (DraftFile.objects.filter(state=DraftFile.State.PROCESSING,
                                              file_type=self.file_type,
                                              job__state__in=(Job.State.FAILED,
                                                              Job.State.CANCELLED))
                     .select_related("job"))
        settled: list[str] = []
        checksums: set[str] = set()
        for item in abandoned:
            job = item.job
            if job is None:  # deleted since the query: nothing to say about it
                continue
            reason = job.error if job.state == Job.State.FAILED else ""
            # Conditional on the same job: start() may have given the file a new one since.
            if DraftFile.objects.filter(id=item.id, state=DraftFile.State.PROCESSING,
                                        job_id=job.id).update(
                    state=DraftFile.State.ERROR, progress=0,
                    error=reason or self.cancelled_message):
                settled.append(str(item.id))
                checksums.add(item.checksum)
        for checksum in sorted(checksums):
            job_ended(checksum)
        return settled


def source_path(checksum: str, extension: str) -> Path:
    """The stored upload; under the extension it was first stored with if that differs."""
    path = storage_path(checksum, extension)
    if not path.is_file():
        known = StoredFile.objects.filter(checksum=checksum).values_list(
            "extension", flat=True).first()
        if known:
            path = storage_path(checksum, known)
    return path


def delete_if_orphaned(checksum: str, outputs: set[str]) -> set[str]:
    """The seed's check: no draft file holds the source any more (its draft was cancelled
    while the job ran), so what the job stored is deleted unless something else uses it.
    Runs after the store lock is released (the delete takes it exclusively)."""
    if not outputs or DraftFile.objects.filter(checksum=checksum).exists():
        return set()
    try:
        deleted = delete_if_unreferenced(outputs)
    except Exception:  # noqa: BLE001 - must not hide the job's own outcome; GC collects later
        logger.exception("outputs %s of a job whose draft went away kept for now",
                         sorted(outputs))
        return set()
    logger.info("job on %s ended after its draft was cancelled: deleted %s", checksum,
                [item.checksum for item in deleted])
    return {item.checksum for item in deleted}


def job_ended(checksum: str) -> None:
    """Courses published while these bytes were prepared get their next version (or, if it
    failed, stop waiting for them); a failure there is logged, the job itself is done."""
    from authoring.publish import encode_finished

    try:
        encode_finished(checksum)
    except Exception:  # noqa: BLE001 - the rows are marked; the hourly collector retries
        logger.exception("updating the courses waiting for %s failed", checksum)
