"""Background conversion of uploaded office documents to PDF: one "convert" job per source (MD5).

Word, OpenDocument, RTF and PowerPoint files are stored and offered for download as they are.
When LibreOffice is installed (media.office), the upload code also calls
`start_conversion(draft_file)`: the file shows Processing, and the job (run by the Huey worker
through jobs.services.run_job) converts the source into a PDF in the temp area, puts it into
the store and marks every office draft file with that source Finished with
`outputs={"pdf": md5}`. The published node then carries both: the PDF plays in the document
viewer, the original stays a download (authoring.course_spec).

    if conversion_available():
        start_conversion(draft_file)    # Processing now; the conversion runs after the commit
    settle_abandoned_conversions()      # hourly: files whose job the reaper failed show Error

It works like the video encode (authoring.encoding), for the same reasons:
- One job per checksum: two drafts holding the same document share one conversion.
- A killed worker leaves the job running with a stale heartbeat: the reaper re-queues it and
  the next delivery converts again (put_file dedupes the PDF); after JOBS["MAX_ATTEMPTS"] the
  job fails and authoring.serializers shows its files as Error.
- The PDF goes into the store and onto the rows while holding the store lock shared, so a
  cancel's delete_if_unreferenced never deletes it between the two; the final stage is written
  in the same transaction, after which start_conversion no longer joins the job.
- A draft cancelled meanwhile: the PDF is deleted again unless something else references it.
- A course published while its documents converted gets its next version when they end
  (authoring.publish.encode_finished, which course_spec's `waiting` list feeds).

Failures: a document LibreOffice cannot open, or one that takes longer than
CONVERT_TIMEOUT_SECONDS, ends in Error with LibreOffice's reason (as a video ffmpeg cannot read
does). LibreOffice gone since the upload (uninstalled, SOFFICE_BINARY broken) is a set-up
problem, not the document's: its files go back to Finished as plain downloads and the job
fails with the reason, for the admin.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from authoring.filetypes import TYPES_BY_NAME
from authoring.models import DraftFile
from jobs.errors import InvalidJobParamsError
from jobs.kinds import JobContext, JobKind, register_kind
from jobs.models import Job
from jobs.params import reject_unknown_params
from jobs.services import enqueue_job, one_line
from media.office import (
    DEFAULT_TIMEOUT,
    OfficeError,
    OfficeNotFoundError,
    convert_to_pdf,
    soffice_available,
)
from storage.files import put_file
from storage.gc import delete_if_unreferenced, store_write_lock
from storage.models import StoredFile
from storage.paths import storage_path, temp_root

logger = logging.getLogger(__name__)

OFFICE = "office"
KIND = "convert"
OFFICE_EXTENSIONS = TYPES_BY_NAME[OFFICE]
CHECKSUM_RE = re.compile(r"[0-9a-f]{32}")
PROGRESS_STAGE = "convert"
FINAL_STAGE = "saving"
PDF = "pdf"


class ConversionError(Exception):
    """The document cannot be converted; the message says why (bad input: 4)."""

    exit_code = 4


def conversion_available() -> bool:
    """Whether uploads of office documents get a PDF copy on this server (LibreOffice found)."""
    return soffice_available()


def clean_convert(raw: Mapping[str, Any]) -> dict[str, Any]:
    reject_unknown_params(raw, {"checksum", "extension"})
    checksum = raw.get("checksum")
    if not isinstance(checksum, str) or not CHECKSUM_RE.fullmatch(checksum):
        raise InvalidJobParamsError("checksum", "the MD5 of a stored file: 32 lowercase hex "
                                    "characters")
    extension = raw.get("extension")
    if not isinstance(extension, str) or extension not in OFFICE_EXTENSIONS:
        raise InvalidJobParamsError("extension", f"one of {', '.join(OFFICE_EXTENSIONS)}")
    return {"checksum": checksum, "extension": extension}


def start_conversion(draft_file: DraftFile) -> None:
    """Mark the file Processing and make sure a conversion of its bytes is queued or running.

    Every office draft file with the same bytes that is Processing without an active job is
    linked to that job too (a job that failed or was cancelled before them).
    """
    params = clean_convert({"checksum": draft_file.checksum,
                            "extension": draft_file.extension.lower()})
    checksum = params["checksum"]
    owner_id = DraftFile.objects.filter(pk=draft_file.pk).values_list(
        "draft__owner_id", flat=True).first()
    with transaction.atomic():
        DraftFile.objects.filter(pk=draft_file.pk).update(
            state=DraftFile.State.PROCESSING, progress=0, error="")
        # Locks the job row on PostgreSQL: a job inside its final transaction is re-checked
        # after that commits, and then no longer joinable (SQLite serializes writers anyway).
        job = (Job.objects.select_for_update().active()
               .filter(kind=KIND, params__checksum=checksum)
               .exclude(state=Job.State.RUNNING, stage=FINAL_STAGE)
               .order_by("created_at").first())
        if job is None:
            job = Job.objects.create(kind=KIND, params=params, created_by_id=owner_id)
            transaction.on_commit(partial(enqueue_job, str(job.id)))
        (_office_rows(checksum).filter(state=DraftFile.State.PROCESSING)
         .exclude(job_id__in=Job.objects.active().values("id"))
         .update(job=job))
    draft_file.refresh_from_db(fields=["state", "progress", "error", "job"])


def run_conversion(context: JobContext) -> dict[str, Any]:
    """The job's handler: convert, store, mark the rows; see the module doc."""
    params = clean_convert(context.params)
    checksum = params["checksum"]
    if not DraftFile.objects.filter(checksum=checksum).exists():
        return {"skipped": "no draft holds this document any more"}
    source = _source_path(checksum, params["extension"])
    context.progress.update(PROGRESS_STAGE, 0, 1)
    try:
        result = _convert_and_store(context, checksum, source)
    except OfficeNotFoundError:
        # Not the document's fault: it stays a plain download (see the module doc).
        _office_rows(checksum).filter(state=DraftFile.State.PROCESSING).update(
            state=DraftFile.State.FINISHED, progress=100, error="")
        _conversion_ended(checksum)
        raise
    except Exception as error:
        # A JobCancelledError (a BaseException) passes: a cancelled job, or one the reaper
        # gave to another delivery, must not write Error over what that delivery does.
        context.progress.check()
        failure = _as_conversion_error(error, source)
        _mark_failed(checksum, _author_message(failure))
        _conversion_ended(checksum)
        if failure is error:
            raise
        raise failure from None
    _conversion_ended(checksum)
    return result


def _convert_and_store(context: JobContext, checksum: str, source: Path) -> dict[str, Any]:
    temp_root().mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="convert-", dir=temp_root()))
    try:
        pdf = convert_to_pdf(_pinned(source, work), work, timeout=time_limit_seconds())
        context.progress.check()
        stored: set[str] = set()
        try:
            with store_write_lock(shared=True):
                pdf_checksum = put_file(pdf, PDF).checksum
                stored.add(pdf_checksum)
                with transaction.atomic():
                    # Written with the rows, in one transaction: from now on
                    # start_conversion does not join this job (see the module doc).
                    context.progress.update(FINAL_STAGE, 1, 1)
                    updated = _office_rows(checksum).update(
                        outputs={PDF: pdf_checksum}, state=DraftFile.State.FINISHED,
                        progress=100, error="")
        finally:
            deleted = _delete_if_orphaned(checksum, stored)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"outputs": {PDF: pdf_checksum}, "files": updated, "deleted": sorted(deleted)}


def time_limit_seconds() -> float:
    """settings.CONVERT_TIMEOUT_SECONDS, else DEFAULT_TIMEOUT: a document LibreOffice chews on
    for longer (a huge or hostile file) must not hold a worker of a small box for ever."""
    configured = getattr(settings, "CONVERT_TIMEOUT_SECONDS", None)
    return float(configured) if configured else DEFAULT_TIMEOUT


def _pinned(source: Path, work: Path) -> Path:
    """The source under a plain name in the scratch folder (a hard link; a copy across
    filesystems): a cancel that deletes the stored upload meanwhile cannot pull it away, and
    LibreOffice names its output after it (`document.pdf`)."""
    pinned = work / f"document{source.suffix.lower()}"
    try:
        os.link(source, pinned)
    except FileNotFoundError:
        raise ConversionError("the uploaded file is no longer in the store") from None
    except OSError:
        shutil.copyfile(source, pinned)
    return pinned


def _source_path(checksum: str, extension: str) -> Path:
    """The stored upload; under the extension it was first stored with if that differs."""
    path = storage_path(checksum, extension)
    if not path.is_file():
        known = StoredFile.objects.filter(checksum=checksum).values_list(
            "extension", flat=True).first()
        if known:
            path = storage_path(checksum, known)
    return path


def _office_rows(checksum: str) -> QuerySet[DraftFile]:
    return DraftFile.objects.filter(checksum=checksum, file_type=OFFICE)


def _mark_failed(checksum: str, message: str) -> None:
    # A row already Finished (converted by an earlier job) keeps its PDF.
    _office_rows(checksum).exclude(state=DraftFile.State.FINISHED).update(
        state=DraftFile.State.ERROR, progress=0, error=message)


def _as_conversion_error(error: Exception, source: Path) -> Exception:
    """LibreOffice's failures (cannot load, the time limit) as a ConversionError whose message
    names no server path."""
    if isinstance(error, OfficeError):
        message = str(error)
        for folder in (str(source.parent.absolute()), str(temp_root().absolute())):
            message = re.sub(rf"(?:file://)?{re.escape(folder)}/\S*", "the document", message)
        return ConversionError(" ".join(message.split()))
    return error


def _author_message(error: Exception) -> str:
    if isinstance(error, ConversionError):
        return f"This document could not be converted to PDF: {error}"
    return one_line(error)


def _delete_if_orphaned(checksum: str, outputs: set[str]) -> set[str]:
    """No draft file holds the source any more (its draft was cancelled while this job ran):
    the PDF is deleted unless something else uses it. After the store lock is released (the
    delete takes it exclusively)."""
    if not outputs or DraftFile.objects.filter(checksum=checksum).exists():
        return set()
    try:
        deleted = delete_if_unreferenced(outputs)
    except Exception:  # noqa: BLE001 - must not hide the job's own outcome; GC collects later
        logger.exception("PDF %s of a cancelled conversion kept for now", sorted(outputs))
        return set()
    return {item.checksum for item in deleted}


def settle_abandoned_conversions() -> list[str]:
    """Office files still Processing whose job ended without marking them (the reaper gave up
    on a worker killed too often; an admin cancelled the task) go to Error with the job's
    reason, and courses published meanwhile stop waiting. Returns the ids settled."""
    abandoned = (DraftFile.objects.filter(state=DraftFile.State.PROCESSING, file_type=OFFICE,
                                          job__state__in=(Job.State.FAILED,
                                                          Job.State.CANCELLED))
                 .select_related("job"))
    settled: list[str] = []
    checksums: set[str] = set()
    for item in abandoned:
        job = item.job
        if job is None:
            continue
        reason = job.error if job.state == Job.State.FAILED else ""
        # Conditional on the same job: start_conversion may have given it a new one since.
        if DraftFile.objects.filter(id=item.id, state=DraftFile.State.PROCESSING,
                                    job_id=job.id).update(
                state=DraftFile.State.ERROR, progress=0,
                error=reason or "The conversion to PDF was cancelled; remove the document "
                                "and upload it again."):
            settled.append(str(item.id))
            checksums.add(item.checksum)
    for checksum in sorted(checksums):
        _conversion_ended(checksum)
    return settled


def _conversion_ended(checksum: str) -> None:
    """Courses published while this document converted get their next version (or stop
    waiting for it); a failure there is logged, the conversion itself is done."""
    from authoring.publish import encode_finished

    try:
        encode_finished(checksum)
    except Exception:  # noqa: BLE001 - the rows are marked; the hourly collector retries
        logger.exception("updating the courses waiting for document %s failed", checksum)


CONVERT = register_kind(JobKind(name=KIND, title="Convert an office document to PDF",
                                clean=clean_convert, handler=run_conversion, admin_only=True),
                        replace=True)
