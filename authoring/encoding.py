"""Background encoding of uploaded videos: one "encode" job per source video (by MD5).

The upload code calls `start_encode(draft_file)` once a video's bytes are in the store. The job
(run by the Huey worker through jobs.services.run_job) encodes the source into mp4 (H.264/AAC),
webm (VP8/Vorbis) and ogv (Theora/Vorbis) plus a PNG thumbnail, in the temp area, then puts
them into the store and marks every video draft file with that source Finished. Progress is
the percent of the duration over the three encodes; the whole job has a time limit.

    start_encode(draft_file)    # Processing now; the encode runs after the commit
    settle_abandoned_encodes()  # hourly: files whose job the reaper failed show Error

Why one job per checksum: storage dedupes, so two drafts (or two files of one draft) holding
the same video share one encode instead of burning the small box's CPU twice.

How it stays consistent:
- A killed worker leaves the job running with a stale heartbeat: the reaper re-queues it and
  the next delivery encodes from scratch (put_file dedupes the outputs); after
  JOBS["MAX_ATTEMPTS"] the job fails and authoring.serializers shows its files as Error.
- The outputs go into the store and onto the rows while holding the store lock shared, so
  storage.gc.delete_if_unreferenced (a cancel) never deletes one between the two.
- Joining a running job is allowed only until it starts saving (the stage FINAL_STAGE,
  written in the same transaction as the rows): a file linked after that would never be
  marked, so it gets a new job instead.
- Afterwards, if no draft file holds the source any more (the draft was cancelled meanwhile),
  what the job made is deleted unless something else references it (the seed's check).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import tempfile
import time
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
from kolibri_like.crashpoints import crash_point
from media.ffmpeg import (
    ENCODE_TARGETS,
    FFmpegError,
    FFmpegTimeoutError,
    MediaInfo,
    build_encode_args,
    build_thumbnail_args,
    file_url,
    probe_media,
    run_ffmpeg,
    run_ffmpeg_with_progress,
)
from storage.files import put_file
from storage.gc import store_write_lock
from storage.paths import temp_root

logger = logging.getLogger(__name__)

VIDEO = "video"
KIND = "encode"
# What the wizard accepts as a video; UNTRUSTED_INPUT_OPTIONS in media.ffmpeg lets ffmpeg read
# exactly these containers.
VIDEO_EXTENSIONS = TYPES_BY_NAME[VIDEO]
PROGRESS_STAGE = "encode"
THUMBNAIL_EXTENSION = "png"
# The thumbnail shows the frame a quarter into the video, but no later than this.
THUMBNAIL_LATEST_SECONDS = 10.0
MIN_TIME_LIMIT_SECONDS = 600.0
TIME_LIMIT_PER_SECOND = 10.0
PROBE_TIMEOUT_SECONDS = 120.0
# ffmpeg prefixes its messages with "[png_pipe @ 0x55d0...] ": the demuxer's name is worth
# keeping ("png_pipe: Format not on whitelist"), its address and ffmpeg's own "in#0" are not.
_FFMPEG_CONTEXT_RE = re.compile(r"\[(?P<name>[^\]@]*?) @ 0x[0-9a-f]+\] ")
_FFMPEG_INTERNAL_NAME_RE = re.compile(r"(?:in|out)#\d+.*|AV\w+")
# How ffmpeg (through the C library) says that a write found the disk full.
_NO_SPACE = os.strerror(errno.ENOSPC)


class EncodeError(Exception):
    """The upload is not a video ffmpeg can encode; the message says why (bad input: 4)."""

    exit_code = 4


class EncodeStorageError(Exception):
    """This server's disk failed while the encode stored its outputs: not the video's fault,
    so the sentence says what the admin must do (full: 5, any other I/O error: 6)."""

    def __init__(self, error: OSError) -> None:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            self.exit_code = 5
            super().__init__("The server's disk is full, so this video's encoded copies could "
                             "not be stored: ask the admin to free space, then upload it again.")
        else:
            self.exit_code = 6
            super().__init__(f"The server could not write this video's encoded copies to its "
                             f"disk ({error.strerror}): ask the admin to check the disk, then "
                             f"upload it again.")


VIDEO_JOBS = FileJobKind(
    kind=KIND, file_type=VIDEO, extensions=VIDEO_EXTENSIONS,
    cancelled_message="The encode was cancelled; remove the video and upload it again.")
clean_encode = VIDEO_JOBS.clean
# Marks the file Processing and queues or joins the encode of its bytes.
start_encode = VIDEO_JOBS.start
# Hourly (authoring.collector): files whose encode the reaper gave up on show Error.
settle_abandoned_encodes = VIDEO_JOBS.settle_abandoned


def run_encode(context: JobContext) -> dict[str, Any]:
    """The job's handler: probe, encode, store, mark the rows; see the module doc."""
    params = clean_encode(context.params)
    checksum = params["checksum"]
    if not DraftFile.objects.filter(checksum=checksum).exists():
        return {"skipped": "no draft holds this video any more"}
    source = source_path(checksum, params["extension"])
    try:
        result = _encode_and_store(context, checksum, source)
    except Exception as error:
        VIDEO_JOBS.end_in_error(context, checksum, error,
                                translate=lambda failed: _as_encode_error(failed, source),
                                message=_author_message)
    job_ended(checksum)
    return result


def _encode_and_store(context: JobContext, checksum: str, source: Path) -> dict[str, Any]:
    temp_root().mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="encode-", dir=temp_root()))
    try:
        source = _pinned(source, work)
        info = _probe(source)
        duration = info.duration or 0.0
        deadline = time.monotonic() + time_limit_seconds(duration)
        made = _encode_all(context, source, info, work, deadline)
        stored: set[str] = set()
        try:
            with store_write_lock(shared=True):
                outputs: dict[str, Any] = {}
                for name, path in made.items():
                    outputs[name] = put_file(path, path.suffix.lstrip(".")).checksum
                    stored.add(outputs[name])
                    crash_point("encode.outputs_stored")
                crash_point("encode.before_rows")
                outputs["duration"] = round(duration, 3)
                with transaction.atomic():
                    # Written with the rows, in one transaction: from now on start_encode
                    # does not join this job (see the module doc).
                    context.progress.update(FINAL_STAGE, 1, 1)
                    updated = VIDEO_JOBS.rows(checksum).update(
                        outputs=outputs, state=DraftFile.State.FINISHED, progress=100, error="")
        finally:
            deleted = delete_if_orphaned(checksum, stored)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"outputs": outputs, "files": updated, "deleted": sorted(deleted)}


def _encode_all(context: JobContext, source: Path, info: MediaInfo, work: Path,
                deadline: float) -> dict[str, Path]:
    """Every target, then the thumbnail, into `work`; progress in milliseconds of duration
    summed over the targets (a source without a known duration reports per target)."""
    duration = info.duration or 0.0
    per_target = max(1, round(duration * 1000))
    total = per_target * len(ENCODE_TARGETS)
    has_audio = bool(info.codecs("audio"))
    progress = context.progress
    made: dict[str, Path] = {}
    for index, target in enumerate(ENCODE_TARGETS):
        offset = index * per_target

        def report(seconds: float, offset: int = offset) -> None:
            progress.update(PROGRESS_STAGE, offset + min(per_target, round(seconds * 1000)),
                            total)

        report(0.0)
        output = work / f"video.{target}"
        run_ffmpeg_with_progress(
            build_encode_args(source, output, target=target, has_audio=has_audio),
            duration=duration or None, on_progress=report, timeout=_remaining(deadline))
        made[target] = output
    progress.update(PROGRESS_STAGE, total, total)
    thumbnail = work / f"thumbnail.{THUMBNAIL_EXTENSION}"
    at_seconds = min(duration / 4, THUMBNAIL_LATEST_SECONDS)
    run_ffmpeg(build_thumbnail_args(source, thumbnail, at_seconds=at_seconds),
               timeout=_remaining(deadline))
    if not thumbnail.is_file() or thumbnail.stat().st_size == 0:
        raise EncodeError(f"ffmpeg found no frame at {at_seconds:.1f} s for the thumbnail")
    made[THUMBNAIL_EXTENSION] = thumbnail
    progress.check()
    return made


def time_limit_seconds(duration: float) -> float:
    """Ten times the duration, at least ten minutes, at most settings.ENCODE_TIMEOUT_SECONDS
    (the longest any encode may run; a stuck ffmpeg must not hold a worker for ever)."""
    limit = max(MIN_TIME_LIMIT_SECONDS, TIME_LIMIT_PER_SECOND * duration)
    configured = getattr(settings, "ENCODE_TIMEOUT_SECONDS", None)
    return min(limit, float(configured)) if configured else limit


def _remaining(deadline: float) -> float:
    """Seconds the next ffmpeg run may take; past the job's limit, stop before starting it."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FFmpegTimeoutError("the encode took longer than its time limit and was stopped")
    return remaining


def _probe(source: Path) -> MediaInfo:
    info = probe_media(source, timeout=PROBE_TIMEOUT_SECONDS, untrusted=True)
    if not info.codecs("video"):
        raise EncodeError(f"the file has no video stream (ffmpeg found "
                          f"{', '.join(info.codecs('audio')) or 'no'} audio only)")
    return info


def _pinned(source: Path, work: Path) -> Path:
    """A hard link to the source in the scratch folder (the temp area is on the store's
    filesystem): a cancel that deletes the stored upload meanwhile must not turn the next
    ffmpeg run into "No such file" (the cancel is noticed at the next progress report)."""
    pinned = work / f"source{source.suffix}"
    try:
        os.link(source, pinned)
    except FileNotFoundError:
        raise EncodeError("the uploaded file is no longer in the store") from None
    except OSError:
        return source  # no hard links here (another filesystem): read it in place
    return pinned


def _as_encode_error(error: Exception, source: Path) -> Exception:
    """ffmpeg's failures (bad media, the time limit) as an EncodeError for the author; our
    disk's as an EncodeStorageError."""
    if isinstance(error, FFmpegError) and _NO_SPACE in error.stderr_tail:
        # ffmpeg's own output filled the disk: the video is not to blame.
        return EncodeStorageError(OSError(errno.ENOSPC, _NO_SPACE))
    if isinstance(error, FFmpegError):
        return EncodeError(_without_paths(str(error), source))
    if isinstance(error, OSError):
        return EncodeStorageError(error)
    return error


def _author_message(error: Exception) -> str:
    if isinstance(error, EncodeError):
        return f"This video could not be encoded: {error}"
    from jobs.services import one_line

    return one_line(error)


def _without_paths(message: str, source: Path) -> str:
    """ffmpeg's reason without server paths (the upload's, the temp area's) or its context
    prefixes."""
    for text in (file_url(source), str(source)):
        message = message.replace(text, "the upload")
    temp_area = re.escape(str(temp_root().absolute()))
    message = re.sub(rf"(?:file:)?{temp_area}/\S*", "a temporary file", message)

    def context(match: re.Match[str]) -> str:
        name = match.group("name").strip()
        return "" if not name or _FFMPEG_INTERNAL_NAME_RE.fullmatch(name) else f"{name}: "

    return " ".join(_FFMPEG_CONTEXT_RE.sub(context, message).split())


ENCODE = register_kind(JobKind(name=KIND, title="Encode an uploaded video", clean=clean_encode,
                               handler=run_encode, admin_only=True), replace=True)
