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
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from authoring.filetypes import TYPES_BY_NAME
from authoring.file_jobs import (
    FINAL_STAGE,
    FileJobKind,
    delete_if_orphaned,
    job_ended,
    source_path,
)
from authoring.models import DraftFile
from jobs.kinds import JobContext, JobKind, register_kind
from jobs.services import one_line
from media.office import (
    DEFAULT_TIMEOUT,
    OfficeError,
    OfficeNotFoundError,
    convert_to_pdf,
    soffice_available,
)
from storage.files import put_file
from storage.gc import store_write_lock
from storage.paths import temp_root

logger = logging.getLogger(__name__)

OFFICE = "office"
KIND = "convert"
OFFICE_EXTENSIONS = TYPES_BY_NAME[OFFICE]
PROGRESS_STAGE = "convert"
PDF = "pdf"


class ConversionError(Exception):
    """The document cannot be converted; the message says why (bad input: 4)."""

    exit_code = 4


def conversion_available() -> bool:
    """Whether uploads of office documents get a PDF copy on this server (LibreOffice found)."""
    return soffice_available()


CONVERT_JOBS = FileJobKind(
    kind=KIND, file_type=OFFICE, extensions=OFFICE_EXTENSIONS,
    cancelled_message="The conversion to PDF was cancelled; remove the document and upload "
                      "it again.")
clean_convert = CONVERT_JOBS.clean
# Marks the file Processing and queues or joins the conversion of its bytes.
start_conversion = CONVERT_JOBS.start
# Hourly (authoring.collector): files whose conversion the reaper gave up on show Error.
settle_abandoned_conversions = CONVERT_JOBS.settle_abandoned


def run_conversion(context: JobContext) -> dict[str, Any]:
    """The job's handler: convert, store, mark the rows; see the module doc."""
    params = clean_convert(context.params)
    checksum = params["checksum"]
    if not DraftFile.objects.filter(checksum=checksum).exists():
        return {"skipped": "no draft holds this document any more"}
    source = source_path(checksum, params["extension"])
    context.progress.update(PROGRESS_STAGE, 0, 1)
    try:
        result = _convert_and_store(context, checksum, source)
    except OfficeNotFoundError:
        # Not the document's fault: it stays a plain download (see the module doc).
        CONVERT_JOBS.rows(checksum).filter(state=DraftFile.State.PROCESSING).update(
            state=DraftFile.State.FINISHED, progress=100, error="")
        job_ended(checksum)
        raise
    except Exception as error:
        CONVERT_JOBS.end_in_error(context, checksum, error,
                                  translate=lambda failed: _as_conversion_error(failed, source),
                                  message=_author_message)
    job_ended(checksum)
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
                    updated = CONVERT_JOBS.rows(checksum).update(
                        outputs={PDF: pdf_checksum}, state=DraftFile.State.FINISHED,
                        progress=100, error="")
        finally:
            deleted = delete_if_orphaned(checksum, stored)
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


CONVERT = register_kind(JobKind(name=KIND, title="Convert an office document to PDF",
                                clean=clean_convert, handler=run_conversion, admin_only=True),
                        replace=True)
