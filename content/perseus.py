"""Kolibri's exercise file: a `.perseus` zip whose `exercise.json` names the assessment items,
the mastery model and whether to shuffle, with one Perseus JSON document per item and the
items' images under `images/`. The channel database repeats the manifest in
`content_assessmentmetadata`, which Kolibri's exercise player reads (CHANNEL_FORMAT.md).

We write only single- and multiple-choice items (one Perseus `radio` widget each) and read any
file: radio items come back as `RadioItem`, items using other widgets as `UnsupportedItem`, so
a player can show what it can and say what it cannot.

    data = write_exercise([RadioItem("q1", escape_markdown("2 + 2 = ?"),
                                     (RadioChoice("4", True), RadioChoice("5", False)))],
                          mastery_model={"type": "m_of_n", "m": 1, "n": 1})
    read_exercise_manifest(data).item_ids     # ["q1"]
    read_exercise_items(data)[0].choices      # (RadioChoice("4", True), RadioChoice("5", False))
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MANIFEST_NAME = "exercise.json"
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_ITEM_BYTES = 1024 * 1024
MAX_IMAGE_BYTES = 32 * 1024 * 1024
IMAGES_DIR = "images"
# Kolibri's Perseus renderer swaps this placeholder for the zip's own URL (le-utils IMG_FORMAT).
LOCALPATH = "${\u2623 LOCALPATH}"
RADIO_WIDGET = "radio 1"
# A widget placeholder as Perseus finds it: `[[☃ radio 1]]`.
_WIDGET_RE = re.compile(r"\[\[\u2603 ([a-z-]+ [0-9]+)\]\]")
_IMAGE_REF_RE = re.compile(r"(web\+graphie:)?\$\{\u2623 LOCALPATH\}/([^)\s\"]+)")
# Every ASCII punctuation character: simple-markdown (Perseus) and CommonMark both read a
# backslash before any of them as that character, literally.
_MARKDOWN_PUNCTUATION_RE = re.compile(r"([!-/:-@\[-`{-~])")
_ITEM_ID_RE = re.compile(r"[0-9A-Za-z_-]{1,64}")
_IMAGE_NAME_RE = re.compile(r"[0-9A-Za-z_-]{1,64}\.(png|jpg|jpeg|gif|svg)")
# Fixed member metadata: the same items give the same bytes, so the same MD5, in every version.
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class InvalidExerciseFileError(ValueError):
    exit_code = 4


@dataclass(frozen=True)
class ExerciseManifest:
    item_ids: list[str]
    mastery_model: dict[str, Any]
    randomize: bool


@dataclass(frozen=True)
class RadioChoice:
    markdown: str
    correct: bool


@dataclass(frozen=True)
class RadioItem:
    """One single- or multiple-choice question. `question` is Perseus markdown without the
    widget placeholder; `images` maps names under `images/` to bytes (see `image_markdown`)."""

    item_id: str
    question: str
    choices: tuple[RadioChoice, ...]
    multiple: bool = False
    images: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class UnsupportedItem:
    """An item a radio-only player cannot show: why, and which widget types it uses."""

    item_id: str
    reason: str
    widgets: tuple[str, ...] = ()


def escape_markdown(text: str) -> str:
    """Author text as markdown that shows exactly that text: no widget (`[[☃ ...]]`), image
    (`![](...)`), math (`$...$`), link or heading can be smuggled in, and no `${☣ LOCALPATH}`
    for Kolibri to rewrite."""
    return _MARKDOWN_PUNCTUATION_RE.sub(r"\\\1", text)


def unescape_markdown(markdown: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def image_markdown(name: str, alt: str = "") -> str:
    """The markdown that shows the zip member `images/<name>` in Kolibri and in our player."""
    if not _IMAGE_NAME_RE.fullmatch(name):
        raise ValueError(f"image name {name!r}: use letters, digits, - or _ and an image "
                         "extension")
    return f"![{escape_markdown(alt)}]({LOCALPATH}/{IMAGES_DIR}/{name})"


def normalize_mastery_model(value: Any) -> dict[str, Any]:
    """Studio writes either a name ("do_all", "m_of_n") or a dict with `type`; Kolibri reads a dict."""
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return dict(value)
    if isinstance(value, str) and value:
        return {"type": value}
    return {"type": "do_all"}


def write_exercise(items: Sequence[RadioItem], *, mastery_model: Mapping[str, Any],
                   randomize: bool = False) -> bytes:
    """The `.perseus` zip of `items`, byte for byte the same for the same input."""
    if not items:
        raise ValueError("an exercise needs at least one item")
    members: dict[str, bytes] = {}
    for item in items:
        _check_item(item)
        name = f"{item.item_id}.json"
        if name in members:
            raise ValueError(f"item id {item.item_id!r} is used twice")
        members[name] = _json_bytes(_perseus_item(item))
        for image_name, image_bytes in item.images.items():
            path = f"{IMAGES_DIR}/{image_name}"
            if members.setdefault(path, image_bytes) != image_bytes:
                raise ValueError(f"two different images are both named {image_name!r}")
    members[MANIFEST_NAME] = _json_bytes({
        "all_assessment_items": [item.item_id for item in items],
        "assessment_mapping": {item.item_id: "multiple_selection" if item.multiple
                               else "single_selection" for item in items},
        "mastery_model": dict(mastery_model),
        "randomize": randomize,
    })
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            # Stored, not deflated: images are compressed already, and zlib's output may
            # differ between versions, which would change the checksum of an unchanged set.
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 0
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name])
    return buffer.getvalue()


def _check_item(item: RadioItem) -> None:
    if not _ITEM_ID_RE.fullmatch(item.item_id):
        raise ValueError(f"item id {item.item_id!r}: use 1-64 letters, digits, - or _")
    if len(item.choices) < 2:
        raise ValueError(f"item {item.item_id}: a choice question needs two choices or more")
    texts = [item.question, *(choice.markdown for choice in item.choices)]
    if any(_WIDGET_RE.search(text) for text in texts):
        raise ValueError(f"item {item.item_id}: its markdown holds a widget placeholder; "
                         "escape author text with escape_markdown()")
    for name in item.images:
        image_markdown(name)  # validates the name
    for text in texts:
        for match in _IMAGE_REF_RE.finditer(text):
            name = match.group(2).removeprefix(f"{IMAGES_DIR}/")
            if match.group(1) or name not in item.images:
                raise ValueError(f"item {item.item_id}: it shows {match.group(0)!r} but "
                                 "carries no such image")


def _perseus_item(item: RadioItem) -> dict[str, Any]:
    """A Perseus item with one radio widget, the shape Studio publishes and Kolibri plays."""
    question = f"{item.question}\n\n" if item.question else ""
    return {
        "question": {
            "content": f"{question}[[\u2603 {RADIO_WIDGET}]]",
            "images": {},
            "widgets": {RADIO_WIDGET: {
                "type": "radio", "graded": True, "static": False,
                "version": {"major": 1, "minor": 0},
                "options": {
                    "choices": [{"content": choice.markdown, "correct": choice.correct}
                                for choice in item.choices],
                    # The author's order: learners and certificates refer to it.
                    "randomize": False,
                    "multipleSelect": item.multiple,
                    "displayCount": None,
                    "hasNoneOfTheAbove": False,
                    "onePerLine": True,
                    "deselectEnabled": False,
                }}},
        },
        "answerArea": {"calculator": False, "periodicTable": False},
        "itemDataVersion": {"major": 0, "minor": 1},
        "hints": [],
    }


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def read_exercise_manifest(data: bytes) -> ExerciseManifest:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = _read_json(archive, MANIFEST_NAME, MAX_MANIFEST_BYTES)
    except zipfile.BadZipFile as error:
        raise InvalidExerciseFileError(
            f"not a Kolibri exercise file (a zip with {MANIFEST_NAME}): {error}") from None
    return _manifest(manifest)


def _manifest(manifest: Any) -> ExerciseManifest:
    items = manifest.get("all_assessment_items") if isinstance(manifest, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidExerciseFileError(f"{MANIFEST_NAME} has no list `all_assessment_items`")
    mastery = normalize_mastery_model(manifest.get("mastery_model"))
    if mastery.get("type") == "m_of_n":
        mastery.setdefault("n", len(items))
        mastery.setdefault("m", len(items))
    return ExerciseManifest(item_ids=list(items), mastery_model=mastery,
                            randomize=bool(manifest.get("randomize", False)))


def _read_json(archive: zipfile.ZipFile, name: str, limit: int) -> Any:
    try:
        info = archive.getinfo(name)
        if info.file_size > limit:
            raise InvalidExerciseFileError(f"{name} is larger than {limit // 1024} KB")
        return json.loads(archive.read(info))
    except (KeyError, json.JSONDecodeError, UnicodeDecodeError, zipfile.BadZipFile) as error:
        raise InvalidExerciseFileError(
            f"not a Kolibri exercise file ({name} is missing or unreadable): {error}") from None


def read_exercise_items(data: bytes) -> list[RadioItem | UnsupportedItem]:
    """Every item of the file in its order: radio items with their choices and images, and
    the others (other widgets, several widgets, graphie images, missing parts) as unsupported."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = _manifest(_read_json(archive, MANIFEST_NAME, MAX_MANIFEST_BYTES))
            return [_read_item(archive, item_id) for item_id in manifest.item_ids]
    except zipfile.BadZipFile as error:
        raise InvalidExerciseFileError(f"not a Kolibri exercise file: {error}") from None


def _read_item(archive: zipfile.ZipFile, item_id: str) -> RadioItem | UnsupportedItem:
    try:
        item = _read_json(archive, f"{item_id}.json", MAX_ITEM_BYTES)
    except InvalidExerciseFileError as error:
        return UnsupportedItem(item_id, str(error))
    question = item.get("question") if isinstance(item, dict) else None
    content = question.get("content") if isinstance(question, dict) else None
    widgets = question.get("widgets") if isinstance(question, dict) else None
    if not isinstance(content, str) or not isinstance(widgets, dict):
        return UnsupportedItem(item_id, "not a Perseus item (no question content and widgets)")
    used = _WIDGET_RE.findall(content)
    types = tuple(str(widgets.get(name, {}).get("type", "unknown"))
                  if isinstance(widgets.get(name), dict) else "unknown" for name in used)
    if types != ("radio",):
        return UnsupportedItem(item_id, "only questions with exactly one radio widget are "
                               "supported", types)
    options = widgets[used[0]].get("options")
    raw_choices = options.get("choices") if isinstance(options, dict) else None
    if not isinstance(raw_choices, list) or not all(
            isinstance(choice, dict) and isinstance(choice.get("content", ""), str)
            for choice in raw_choices):
        return UnsupportedItem(item_id, "its radio widget has no list of choices", types)
    if any(choice.get("isNoneOfTheAbove") for choice in raw_choices):
        return UnsupportedItem(item_id, "a 'none of the above' choice is not supported", types)
    choices = tuple(RadioChoice(choice.get("content", ""), bool(choice.get("correct")))
                    for choice in raw_choices)
    text = _WIDGET_RE.sub("", content).strip()
    images: dict[str, bytes] = {}
    for markdown in (text, *(choice.markdown for choice in choices)):
        for match in _IMAGE_REF_RE.finditer(markdown):
            path = match.group(2)
            if match.group(1) or not path.startswith(f"{IMAGES_DIR}/"):
                return UnsupportedItem(item_id, f"image {path} is not a plain image", types)
            try:
                info = archive.getinfo(path)
                if info.file_size > MAX_IMAGE_BYTES:
                    return UnsupportedItem(item_id, f"image {path} is too large", types)
                images[path.removeprefix(f"{IMAGES_DIR}/")] = archive.read(info)
            except KeyError:
                return UnsupportedItem(item_id, f"image {path} is missing from the file", types)
    return RadioItem(item_id, text, choices, multiple=bool(options.get("multipleSelect")),
                     images=images)
