"""A draft's files as the author manages them: list, read, rename, describe, reorder, remove.

Receiving bytes is authoring.uploads; this module is everything else about a file. Removing a
file takes its partial bytes and registry row with it and frees at once the stored bytes that
nothing else (another draft, a channel version) needs.

    update_file(author, draft.id, item.id, {"description": "Watch first", "position": 0})
    remove_file(author, draft.id, item.id)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from authoring.drafts import MAX_DESCRIPTION, MAX_TOPIC, get_draft, get_open_draft, parse_draft_id
from authoring.errors import DraftFileNotFoundError, InvalidDraftError
from authoring.filetypes import FileType, safe_display_name
from authoring.models import Draft, DraftFile, UploadRecord
from authoring.uploads_area import partial_path
from storage.gc import StorageBusyError, delete_if_unreferenced
from storage.references import ReferenceSourceError

logger = logging.getLogger(__name__)
EDITABLE_FIELDS = ("description", "topic", "position", "name")


def list_files(user: Any, draft_id: object) -> list[DraftFile]:
    draft = get_draft(user, draft_id)
    return list(draft.files.select_related("job").all())


def get_file(user: Any, draft_id: object, file_id: object, *, editable: bool = False) -> DraftFile:
    """A file of a draft `user` may see (`editable`: of an open draft); 404 otherwise."""
    draft = get_open_draft(user, draft_id) if editable else get_draft(user, draft_id)
    parsed = parse_draft_id(file_id)
    item = draft.files.select_related("job").filter(id=parsed).first() if parsed else None
    if item is None:
        raise DraftFileNotFoundError()
    return item


def clean_fields(changes: Mapping[str, object], *,
                 file_type: FileType | None = None) -> dict[str, Any]:
    """Check the author's fields of a file; InvalidDraftError naming each bad one."""
    errors: dict[str, object] = {}
    clean: dict[str, Any] = {}
    for name, limit in (("description", MAX_DESCRIPTION), ("topic", MAX_TOPIC)):
        if name in changes:
            value = changes[name]
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors[name] = gettext("must be text")
            elif len(value.strip()) > limit:
                errors[name] = gettext("must be at most %(limit)s characters") % {"limit": limit}
            else:
                clean[name] = value.strip()
    if "usage" in changes:
        usage = changes["usage"] or DraftFile.Usage.RESOURCE
        if usage not in DraftFile.Usage.values:
            errors["usage"] = gettext("must be 'resource' or 'test'")
        elif usage == DraftFile.Usage.TEST and file_type is not None \
                and file_type.name != "image":
            errors["usage"] = gettext("only images can be used in test sets")
        else:
            clean["usage"] = usage
    if "name" in changes:
        name = safe_display_name(changes["name"])
        if not name:
            errors["name"] = gettext("must not be empty")
        else:
            clean["name"] = name
    if "position" in changes:
        position = changes["position"]
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            errors["position"] = gettext("must be a whole number, 0 for the first file")
        else:
            clean["position"] = position
    if errors:
        raise InvalidDraftError(errors)
    return clean


def update_file(user: Any, draft_id: object, file_id: object,
                changes: Mapping[str, Any]) -> DraftFile:
    """Change a file's description, topic, name or position (its index in the draft's list;
    the other files move to make room)."""
    if not isinstance(changes, Mapping):
        raise InvalidDraftError({"file": gettext("send a JSON object")})
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidDraftError({name: gettext("is not a field of a file (or cannot be changed)")
                                 for name in unknown})
    clean = clean_fields(changes)
    with transaction.atomic():
        draft = get_open_draft(user, draft_id, for_update=True)
        parsed = parse_draft_id(file_id)
        item = draft.files.select_for_update().filter(id=parsed).first() if parsed else None
        if item is None:
            raise DraftFileNotFoundError()
        position = clean.pop("position", None)
        for name, value in clean.items():
            setattr(item, name, value)
        if position is not None:
            item.position = _move(draft, item, position)
        item.save()
    item.refresh_from_db()
    return item


def _move(draft: Draft, item: DraftFile, position: int) -> int:
    others = list(draft.files.exclude(id=item.id).order_by("position", "created_at"))
    index = min(position, len(others))
    for number, other in enumerate(others[:index] + [item] + others[index:]):
        if other.id != item.id and other.position != number:
            DraftFile.objects.filter(id=other.id).update(position=number)
    return index


def remove_file(user: Any, draft_id: object, file_id: object) -> None:
    """Remove a file from an open draft, with its partial file and registry row, and free at
    once the stored bytes that nothing else (another draft, a version) needs."""
    with transaction.atomic():
        draft = get_open_draft(user, draft_id, for_update=True)
        parsed = parse_draft_id(file_id)
        item = draft.files.select_for_update().filter(id=parsed).first() if parsed else None
        if item is None:
            raise DraftFileNotFoundError()
        paths, checksums = _delete_rows(item)
    _drop_bytes(paths, checksums)


def discard_file(item: DraftFile) -> None:
    """Remove a file the service itself created (a failed whole-file upload)."""
    with transaction.atomic():
        paths, checksums = _delete_rows(item)
    _drop_bytes(paths, checksums)


def _delete_rows(item: DraftFile) -> tuple[list[Path], set[str]]:
    records = list(UploadRecord.objects.filter(draft_file_id=item.id))
    fresh = DraftFile.objects.filter(id=item.id).first()
    checksums = fresh.stored_checksums() if fresh is not None else set()
    checksums.update(record.checksum for record in records if record.checksum)
    UploadRecord.objects.filter(id__in=[record.id for record in records]).delete()
    DraftFile.objects.filter(id=item.id).delete()
    return [partial_path(record) for record in records], checksums


def _drop_bytes(paths: list[Path], checksums: set[str]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
    free_stored(checksums)


def free_stored(checksums: set[str]) -> None:
    """Delete stored files nobody references any more; if the store is busy, the hourly
    collector frees them later (they are unreferenced, so nothing is lost by waiting)."""
    if not checksums:
        return
    try:
        delete_if_unreferenced(checksums, wait_seconds=5.0)
    except (StorageBusyError, ReferenceSourceError) as error:
        logger.warning("could not free %s now (%s); the collector will", sorted(checksums),
                       error)
