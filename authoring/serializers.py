"""The JSON shapes of drafts and their files (INTERFACE.md, authoring).

A file's `state` is what the author sees: Processing turns into Error when its job (a video
encode, a document conversion) has failed or was cancelled, even if no worker lived to write
that onto the file (the reaper gave up on it), so no file shows Processing forever.
"""

from __future__ import annotations

from typing import Any

from authoring.models import Draft, DraftFile


def effective_state(item: DraftFile) -> tuple[str, int, str]:
    """(state, percent, error) as shown to the author."""
    if item.state == DraftFile.State.UPLOADING:
        percent = 100 if item.size <= 0 else min(100, item.received * 100 // item.size)
        return item.state, percent, ""
    if item.state == DraftFile.State.PROCESSING and item.job is not None:
        from jobs.models import Job

        job = item.job
        if job.state == Job.State.FAILED:
            return DraftFile.State.ERROR, 0, job.error or "Preparing this file failed."
        if job.state == Job.State.CANCELLED:
            return DraftFile.State.ERROR, 0, "Preparing this file was cancelled."
        return item.state, job.progress, ""
    if item.state == DraftFile.State.FINISHED:
        return item.state, 100, ""
    return item.state, item.progress, item.error


def draft_file_json(item: DraftFile) -> dict[str, Any]:
    state, progress, error = effective_state(item)
    return {
        "id": str(item.id),
        "name": item.name,
        "description": item.description,
        "topic": item.topic,
        "position": item.position,
        "usage": item.usage,
        "file_type": item.file_type,
        "extension": item.extension,
        "size": item.size,
        "received": item.received,
        "state": state,
        "progress": progress,
        "error": error,
        "checksum": item.checksum or None,
        "formats": sorted(key for key in item.outputs if key in ("mp4", "webm", "ogv")),
    }


def draft_json(draft: Draft, *, with_files: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(draft.id),
        "channel_id": draft.channel_id,
        "base_version": draft.base_version,
        "owner": draft.owner.username if draft.owner_id else None,
        "name": draft.name,
        "version_label": draft.version_label,
        "description": draft.description,
        "topics": list(draft.topics),
        "require_videos": draft.require_videos,
        "test_sets": draft.test_sets,
        "step": draft.step,
        "state": draft.state,
        "published_version": draft.published_version,
        "awaiting_encodes": draft.awaiting_encodes,
        "created_at": draft.created_at.isoformat(),
        "updated_at": draft.updated_at.isoformat(),
    }
    if with_files:
        files = draft.files.select_related("job").all()
        data["files"] = [draft_file_json(item) for item in files]
        from authoring.drafts import publish_problems

        data["publish_problems"] = publish_problems(draft) if draft.is_live else {}
    return data
