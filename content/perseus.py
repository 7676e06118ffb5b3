"""Kolibri's exercise file: a `.perseus` zip whose `exercise.json` names the assessment items,
the mastery model and whether to shuffle. The channel database repeats these in
`content_assessmentmetadata`, which Kolibri's exercise player reads (CHANNEL_FORMAT.md).

    manifest = read_exercise_manifest(perseus_bytes)
    manifest.item_ids, manifest.mastery_model
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

MANIFEST_NAME = "exercise.json"
MAX_MANIFEST_BYTES = 1024 * 1024


class InvalidExerciseFileError(ValueError):
    exit_code = 4


@dataclass(frozen=True)
class ExerciseManifest:
    item_ids: list[str]
    mastery_model: dict[str, Any]
    randomize: bool


def normalize_mastery_model(value: Any) -> dict[str, Any]:
    """Studio writes either a name ("do_all", "m_of_n") or a dict with `type`; Kolibri reads a dict."""
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return dict(value)
    if isinstance(value, str) and value:
        return {"type": value}
    return {"type": "do_all"}


def read_exercise_manifest(data: bytes) -> ExerciseManifest:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(MANIFEST_NAME)
            if info.file_size > MAX_MANIFEST_BYTES:
                raise InvalidExerciseFileError(f"{MANIFEST_NAME} is larger than 1 MB")
            manifest = json.loads(archive.read(info))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidExerciseFileError(
            f"not a Kolibri exercise file (a zip with {MANIFEST_NAME}): {error}") from None
    items = manifest.get("all_assessment_items") if isinstance(manifest, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidExerciseFileError(f"{MANIFEST_NAME} has no list `all_assessment_items`")
    mastery = normalize_mastery_model(manifest.get("mastery_model"))
    if mastery.get("type") == "m_of_n":
        mastery.setdefault("n", len(items))
        mastery.setdefault("m", len(items))
    return ExerciseManifest(item_ids=list(items), mastery_model=mastery,
                            randomize=bool(manifest.get("randomize", False)))
