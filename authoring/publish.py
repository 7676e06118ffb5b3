"""Publish a draft ("checkout"): build the course as the channel's next version, once.

    result = publish_draft(author, draft_id)      # PublishResult(channel_id, version)
    encode_finished(checksum)                     # from the encode job: update the course

A draft publishes once. The claim is one conditional UPDATE (open -> publishing), so of two
publishes at the same moment exactly one builds; the other, and any later one, gets
PublishConflictError (409) and makes no version. If the build fails, the draft goes back to
open with nothing installed (the builder writes a temp file and installs it atomically).

After publishing, the upload registry's entries of the draft are deleted (their files now
belong to a channel version, or to the draft while a video still encodes), as in the seed.
Videos still encoding are published without files; when the last of their encodes ends, the
course gets a new version with them, without the author doing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from authoring.course_spec import course_spec
from authoring.drafts import get_draft, publish_problems
from authoring.errors import InvalidDraftError, PublishConflictError
from authoring.models import Draft, DraftFile, UploadRecord
from channels.builder import build_channel
from kolibri_like.crashpoints import crash_point
from storage.gc import StorageBusyError, named_lock

logger = logging.getLogger(__name__)
# An encode that ends while another update of the same course is building waits this long.
UPDATE_LOCK_WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class PublishResult:
    channel_id: str
    version: int
    waiting: int

    def as_dict(self) -> dict[str, Any]:
        return {"channel_id": self.channel_id, "version": self.version,
                "waiting_videos": self.waiting}


def publish_draft(user: Any, draft_id: object) -> PublishResult:
    draft = get_draft(user, draft_id)
    if draft.state != Draft.State.OPEN:
        raise PublishConflictError(_already(draft))
    # Loaded once for the check and the build: 10,000 rows as model instances are a good part
    # of a large publish.
    files = list(draft.files.all())
    problems = publish_problems(draft, files)
    if problems:
        raise InvalidDraftError(problems)
    claimed = Draft.objects.filter(id=draft.id, state=Draft.State.OPEN).update(
        state=Draft.State.PUBLISHING)
    if not claimed:
        draft.refresh_from_db()
        raise PublishConflictError(_already(draft))
    try:
        draft.refresh_from_db()
        with course_update_lock(draft):
            version, waiting = _build(draft, files, owner=_channel_owner(draft))
    except BaseException:
        Draft.objects.filter(id=draft.id, state=Draft.State.PUBLISHING).update(
            state=Draft.State.OPEN)
        raise
    crash_point("publish.after_switch")
    with transaction.atomic():
        Draft.objects.filter(id=draft.id).update(
            state=Draft.State.PUBLISHED, published_version=version, published_at=timezone.now(),
            awaiting_encodes=bool(waiting), waiting_nodes=waiting)
        UploadRecord.objects.filter(draft_file__draft_id=draft.id).delete()
    logger.info("draft %s published as version %s of channel %s (%s videos still encoding)",
                draft.id, version, draft.channel_id, len(waiting))
    return PublishResult(draft.channel_id, version, len(waiting))


def _already(draft: Draft) -> str:
    if draft.state == Draft.State.PUBLISHED:
        return (gettext("This draft was already published as version %(version)s; nothing new "
                        "was made. To change the course, open a new draft of it.")
                % {"version": draft.published_version})
    return gettext("This draft is being published right now; nothing new was made.")


def _channel_owner(draft: Draft) -> Any:
    from channels.models import Channel

    channel = Channel.objects.filter(id=draft.channel_id).first()
    return draft.owner if channel is None or channel.owner_id is None else None


def version_source(draft_id: Any) -> str:
    """What a version made from this draft records as its source (see authoring.recovery)."""
    return f"draft {draft_id}"


def _build(draft: Draft, files: list[DraftFile] | None = None, *,
           owner: Any) -> tuple[int, list[str]]:
    spec, waiting = course_spec(draft, files)
    result = build_channel(spec, owner=owner, source_label=version_source(draft.id))
    return result.version, waiting


def encode_finished(checksum: str) -> list[int]:
    """A video's encode ended: give each course published while it was encoding a new version.

    Only a course whose current version is still the one that draft made is updated (a newer
    publish or a revert since then is the author's choice, and already decided what the course
    holds). Returns the new version numbers.
    """
    versions = []
    candidates = Draft.objects.filter(state=Draft.State.PUBLISHED, awaiting_encodes=True,
                                      files__checksum=checksum).distinct()
    for draft_id in candidates.values_list("id", flat=True):
        version = update_waiting_course(draft_id)
        if version is not None:
            versions.append(version)
    return versions


def update_waiting_course(draft_id: Any) -> int | None:
    from channels.models import Channel

    draft = Draft.objects.filter(id=draft_id).first()
    if draft is None:
        return None
    with course_update_lock(draft, wait=UPDATE_LOCK_WAIT_SECONDS):
        draft.refresh_from_db()
        if draft.state != Draft.State.PUBLISHED or not draft.awaiting_encodes:
            return None
        current = Channel.objects.filter(id=draft.channel_id).values_list(
            "version", flat=True).first()
        if current != draft.published_version:
            Draft.objects.filter(id=draft.id).update(awaiting_encodes=False, waiting_nodes=[])
            return None
        waiting_files = draft.files.filter(node_id__in=draft.waiting_nodes)
        if not waiting_files.filter(state=DraftFile.State.FINISHED).exists():
            if not waiting_files.filter(state=DraftFile.State.PROCESSING).exists():
                # Every waiting encode failed: nothing to add, stop waiting.
                Draft.objects.filter(id=draft.id).update(awaiting_encodes=False,
                                                         waiting_nodes=[])
            return None
        version, waiting = _build(draft, owner=None)
        Draft.objects.filter(id=draft.id).update(
            published_version=version, awaiting_encodes=bool(waiting), waiting_nodes=waiting)
    logger.info("course %s updated to version %s now that videos finished encoding",
                draft.channel_id, version)
    return version


@contextmanager
def course_update_lock(draft: Draft, *, wait: float = 0.0) -> Iterator[None]:
    """One build of a course from drafts at a time (publish, or an update after encodes), so
    two encodes ending together make one update each in turn, never two from stale state."""
    lock = named_lock(f"course-{draft.channel_id}.lock", wait_seconds=wait, busy_message="busy")
    try:
        lock.__enter__()
    except StorageBusyError:
        raise PublishConflictError(
            gettext("This course is being published right now; try again in a minute.")) from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)
