"""Drafts: create, read, change the wizard's steps, open the next version of a course.

Every function takes the user who asks: an author sees and edits only their own drafts, admins
all of them, anyone else none (DraftNotFoundError, a 404: private objects of others are not
revealed). Cancel and publish live in authoring.cancel and authoring.publish.

    draft = create_draft(author)                            # a new course
    draft = create_draft(author, channel_id=channel.id)     # the next version of a course
    update_draft(author, draft.id, {"name": "Fractions", "topics": ["Halves"], "step": 2})
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from authoring.errors import (
    DraftNotEditableError,
    DraftNotFoundError,
    InvalidDraftError,
)
from authoring.models import Draft, DraftFile
from routers.ids import is_valid_channel_id

MAX_NAME = 200
MAX_LABEL = 100
MAX_DESCRIPTION = 4000
MAX_TOPICS = 100
MAX_TOPIC = 200
TEXT_FIELDS = {"name": MAX_NAME, "version_label": MAX_LABEL, "description": MAX_DESCRIPTION}
EDITABLE_FIELDS = ("name", "version_label", "description", "topics", "require_videos",
                   "test_sets", "step")
_UUID_RE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
# How the API writes ids: the only spelling a URL may use, so one object has one address.
_CANONICAL_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_draft_id(value: object, *, canonical: bool = True) -> uuid.UUID | None:
    """A draft or file id from a URL or a payload; None unless it is exactly a lowercase UUID
    (with its dashes, unless `canonical` is off: test sets may name images by hex)."""
    if isinstance(value, uuid.UUID):
        return value
    pattern = _CANONICAL_UUID_RE if canonical else _UUID_RE
    if not isinstance(value, str) or not pattern.fullmatch(value):
        return None
    return uuid.UUID(value)


def get_draft(user: Any, draft_id: object, *, for_update: bool = False) -> Draft:
    """The draft if `user` may see it; DraftNotFoundError otherwise."""
    parsed = parse_draft_id(draft_id)
    if parsed is None:
        raise DraftNotFoundError()
    drafts = Draft.objects.visible_to(user)
    if for_update:
        drafts = drafts.select_for_update()
    draft = drafts.filter(id=parsed).first()
    if draft is None:
        raise DraftNotFoundError()
    return draft


def get_open_draft(user: Any, draft_id: object, *, for_update: bool = False) -> Draft:
    """The draft if `user` may edit it now: visible and still open."""
    draft = get_draft(user, draft_id, for_update=for_update)
    if draft.state != Draft.State.OPEN:
        raise DraftNotEditableError(
            gettext("This draft was %(state)s (version %(version)s); it cannot change any more. "
                    "To change the course, open a new draft of it.")
            % {"state": draft.get_state_display(), "version": draft.published_version}
            if draft.state == Draft.State.PUBLISHED else
            gettext("This draft is being published; wait for the publish to finish."))
    return draft


def create_draft(user: Any, *, channel_id: str | None = None) -> Draft:
    """A new course's draft, or (with `channel_id`) a draft of the course's next version.

    The next version starts from the draft that made the channel's current version: its steps'
    data and its files (same stored bytes, same node ids), so the author changes only what
    they mean to change. Only courses made here can be edited, by their owner or an admin.
    """
    if channel_id is None:
        return Draft.objects.create(owner=user)
    if not isinstance(channel_id, str) or not is_valid_channel_id(channel_id):
        raise InvalidDraftError({"channel_id": gettext("must be a channel id (32 lowercase hex)")})
    from channels.models import Channel

    channel = Channel.objects.filter(id=channel_id).first()
    if channel is None:
        raise DraftNotFoundError(gettext("No such channel on this server."))
    if not (getattr(user, "is_admin", False) or channel.owner_id == getattr(user, "pk", None)):
        raise DraftNotFoundError(gettext("No such course of yours on this server."))
    source = (Draft.objects.filter(channel_id=channel_id, state=Draft.State.PUBLISHED,
                                   published_version=channel.version).first())
    if source is None:
        raise InvalidDraftError({"channel_id": gettext(
            "version %(version)s of this channel was not made in this server's course wizard "
            "(imported, or made by an older draft that no longer exists), so there is no draft "
            "to start from") % {"version": channel.version}})
    return copy_draft(source, owner=user)


@transaction.atomic
def copy_draft(source: Draft, *, owner: Any) -> Draft:
    draft = Draft.objects.create(
        owner=owner, channel_id=source.channel_id, base_version=source.published_version,
        name=source.name, version_label=source.version_label, description=source.description,
        topics=list(source.topics), require_videos=source.require_videos,
        test_sets=source.test_sets)
    copies = []
    for item in source.files.exclude(state=DraftFile.State.UPLOADING):
        copies.append(DraftFile(
            draft=draft, node_id=item.node_id, name=item.name, description=item.description,
            topic=item.topic, position=item.position, usage=item.usage,
            file_type=item.file_type, extension=item.extension, size=item.size,
            received=item.received, checksum=item.checksum, state=item.state,
            progress=item.progress, error=item.error, outputs=dict(item.outputs),
            job_id=item.job_id))
    DraftFile.objects.bulk_create(copies)
    return draft


def update_draft(user: Any, draft_id: object, changes: Mapping[str, Any]) -> Draft:
    """Change the fields given (a PATCH); every field is checked before anything is saved."""
    if not isinstance(changes, Mapping):
        raise InvalidDraftError({"draft": "send a JSON object"})
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidDraftError({name: "is not a field of a draft (or cannot be changed)"
                                 for name in unknown})
    with transaction.atomic():
        draft = get_open_draft(user, draft_id, for_update=True)
        clean = clean_changes(draft, changes)
        for name, value in clean.items():
            setattr(draft, name, value)
        draft.save()
    return draft


def clean_changes(draft: Draft, changes: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, object] = {}
    clean: dict[str, Any] = {}
    for name, limit in TEXT_FIELDS.items():
        if name not in changes:
            continue
        value = changes[name]
        if not isinstance(value, str):
            errors[name] = gettext("must be text")
        elif len(value.strip()) > limit:
            errors[name] = gettext("must be at most %(limit)s characters") % {"limit": limit}
        else:
            clean[name] = value.strip()
    if "topics" in changes:
        topics = changes["topics"]
        if not isinstance(topics, list) or not all(isinstance(item, str) for item in topics):
            errors["topics"] = gettext("must be a list of texts")
        elif len(topics) > MAX_TOPICS:
            errors["topics"] = gettext("at most %(count)s topics") % {"count": MAX_TOPICS}
        else:
            cleaned = [item.strip() for item in topics if item.strip()]
            if any(len(item) > MAX_TOPIC for item in cleaned):
                errors["topics"] = gettext("each topic at most %(limit)s characters") % {
                    "limit": MAX_TOPIC}
            elif len(set(cleaned)) != len(cleaned):
                errors["topics"] = gettext("each topic once")
            else:
                clean["topics"] = cleaned
    if "require_videos" in changes:
        if not isinstance(changes["require_videos"], bool):
            errors["require_videos"] = gettext("must be true or false")
        else:
            clean["require_videos"] = changes["require_videos"]
    if "step" in changes:
        step = changes["step"]
        if isinstance(step, bool) or not isinstance(step, int) or step not in Draft.STEPS:
            errors["step"] = gettext("must be 1, 2, 3 or 4")
        else:
            clean["step"] = step
    if "test_sets" in changes:
        from authoring.testsets import clean_test_sets

        test_sets, test_errors = clean_test_sets(changes["test_sets"], draft)
        if test_errors:
            errors["test_sets"] = test_errors
        else:
            clean["test_sets"] = test_sets
    if errors:
        raise InvalidDraftError(errors)
    return clean


def publish_problems(draft: Draft, files: list[DraftFile] | None = None) -> dict[str, str]:
    """What stops `draft` from being published now (empty when it can be); `files`: the
    draft's files if the caller has loaded them already."""
    problems: dict[str, str] = {}
    if not draft.name.strip():
        problems["name"] = "a course needs a name (step 1)"
    files = list(draft.files.all()) if files is None else files
    uploading = [item.name for item in files if item.state == DraftFile.State.UPLOADING]
    if uploading:
        problems["files"] = ("wait until every upload has finished, or remove it: "
                             + ", ".join(uploading[:5]))
    resources = [item for item in files if item.usage == DraftFile.Usage.RESOURCE
                 and item.state != DraftFile.State.ERROR]
    if not resources and not draft.test_sets:
        problems["content"] = "add at least one file (step 2) or test set (step 3)"
    return problems
