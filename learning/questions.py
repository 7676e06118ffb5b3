"""An exercise node as a test a learner takes: its questions, its settings, and its images.

The questions come from the node's `.perseus` file in the store (content.perseus reads it), the
settings from the node's options: ours (`kolibri_like_test`: pass mark, display, attempts) or,
for exercises that came from Kolibri channels, the mastery model (m of n gives the pass mark
m/n; one question at a time; unlimited attempts).

What a learner sees (`public_questions`) never says which choice is right: choices are named by
their position in the author's order (`"0"`, `"1"`, ...), which the writer keeps (randomize is
off) and which stays the same in every version of an unchanged question.

    exercise = load_exercise(channel_id, node_id)
    exercise.pass_mark            # Fraction(4, 5)
    public_questions(exercise)    # [{"id", "text", "image", "multiple", "choices": [...]}]
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from channels.selectors import is_channel_servable
from content.constants import EXERCISE
from content.models import ChannelMetadata, ContentNode, File
from content.perseus import (
    InvalidExerciseFileError,
    RadioItem,
    UnsupportedItem,
    read_exercise_items,
    read_exercise_manifest,
    unescape_markdown,
)
from learning.errors import (
    ExerciseFileMissingError,
    InvalidLearningInputError,
    LearningNotFoundError,
)
from routers.context import using_content_database
from routers.errors import ChannelDatabaseNotFoundError
from routers.ids import is_valid_channel_id
from storage.paths import storage_path

DEFAULT_PASS_MARK = Fraction(4, 5)
DISPLAYS = ("one", "all")
_NODE_ID_RE = re.compile(r"[0-9a-f]{32}")
# An image as the writer (and Studio) puts it in markdown: `![alt](${☣ LOCALPATH}/images/x.png)`.
_IMAGE_MARKDOWN_RE = re.compile(
    r"!\[(?:\\.|[^\]\\])*\]\(\$\{\u2623 LOCALPATH\}/images/([0-9A-Za-z_.-]+)\)")
IMAGE_CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                       "gif": "image/gif", "svg": "image/svg+xml"}
NOT_FOUND = gettext_lazy("No such test in this course. Browse the course to find its tests.")


@dataclass(frozen=True)
class Exercise:
    channel_id: str
    node_id: str
    content_id: str
    title: str
    version: int
    pass_mark: Fraction
    display: str
    max_attempts: int | None
    items: tuple[RadioItem | UnsupportedItem, ...]

    @property
    def gradable_count(self) -> int:
        return sum(1 for item in self.items if isinstance(item, RadioItem))

    def image(self, name: str) -> bytes | None:
        """The bytes of an image that a question we show uses; nothing else in the zip."""
        for item in self.items:
            if isinstance(item, RadioItem) and name in item.images:
                return item.images[name]
        return None


def validate_ids(channel_id: object, node_id: object) -> tuple[str, str]:
    if not isinstance(channel_id, str) or not is_valid_channel_id(channel_id):
        raise InvalidLearningInputError(
            gettext("channel_id must be a channel id (32 lowercase hex)."))
    if not isinstance(node_id, str) or not _NODE_ID_RE.fullmatch(node_id):
        raise InvalidLearningInputError(
            gettext("node_id must be a node id (32 lowercase hex)."))
    return channel_id, node_id


def load_exercise(channel_id: str, node_id: str) -> Exercise:
    """The exercise node `node_id` of the current version of `channel_id`, with its items."""
    validate_ids(channel_id, node_id)
    if not is_channel_servable(channel_id):
        raise LearningNotFoundError(NOT_FOUND)
    try:
        with using_content_database(channel_id):
            node = ContentNode.objects.filter(id=node_id, kind=EXERCISE).first()
            if node is None:
                raise LearningNotFoundError(NOT_FOUND)
            version = ChannelMetadata.objects.values_list("version", flat=True).first() or 0
            file_row = (File.objects.filter(contentnode_id=node_id, preset="exercise")
                        .select_related("local_file").order_by("priority", "id").first())
    except ChannelDatabaseNotFoundError:
        raise LearningNotFoundError(NOT_FOUND) from None
    if file_row is None:
        raise ExerciseFileMissingError(gettext("This test has no question file; the course "
                                               "author must publish it again."))
    checksum = file_row.local_file_id or file_row.checksum
    items, mastery_model = _read_exercise_file(checksum)
    pass_mark, display, max_attempts = _settings(node.options or {}, mastery_model, len(items))
    return Exercise(channel_id=channel_id, node_id=node_id, content_id=node.content_id,
                    title=node.title, version=int(version), pass_mark=pass_mark,
                    display=display, max_attempts=max_attempts, items=tuple(items))


# Stored files are named by their MD5 and never change: a parsed file can be kept.
@functools.lru_cache(maxsize=16)
def _read_exercise_file(checksum: str) -> tuple[tuple[RadioItem | UnsupportedItem, ...],
                                               dict[str, Any]]:
    try:
        data = storage_path(checksum, "perseus").read_bytes()
    except (OSError, ValueError):
        raise ExerciseFileMissingError(gettext(
            "This test's question file is not on this server yet; ask an admin to import the "
            "course's content.")) from None
    try:
        return (tuple(read_exercise_items(data)),
                read_exercise_manifest(data).mastery_model)
    except InvalidExerciseFileError as error:
        raise ExerciseFileMissingError(gettext(
            "This test's question file cannot be read (%(error)s); ask an admin to check the "
            "course.") % {"error": error}) from None


def _settings(options: dict[str, Any], mastery_model: dict[str, Any],
              item_count: int) -> tuple[Fraction, str, int | None]:
    """(pass mark, display, max attempts): ours when the author set them, else from Kolibri's
    mastery model."""
    ours = options.get("kolibri_like_test") if isinstance(options, dict) else None
    if isinstance(ours, dict):
        pass_mark = _fraction(ours.get("pass_mark")) or DEFAULT_PASS_MARK
        display = ours.get("display") if ours.get("display") in DISPLAYS else "one"
        attempts = ours.get("max_attempts")
        max_attempts = attempts if isinstance(attempts, int) and not isinstance(
            attempts, bool) and attempts > 0 else None
        return pass_mark, str(display), max_attempts
    return mastery_pass_mark(mastery_model, item_count), "one", None


def mastery_pass_mark(mastery_model: dict[str, Any], item_count: int) -> Fraction:
    """Kolibri's mastery model as a pass mark: m of n is m/n; do all is 1; k in a row is k of
    the questions (at most all of them); anything else our default."""
    kind = mastery_model.get("type")
    if kind == "m_of_n":
        m, n = mastery_model.get("m"), mastery_model.get("n")
        if isinstance(m, int) and isinstance(n, int) and 0 < m <= n:
            return Fraction(m, n)
    if kind == "do_all":
        return Fraction(1)
    match = re.fullmatch(r"num_correct_in_a_row_([0-9]{1,3})", str(kind))
    if match and item_count > 0:
        return Fraction(min(int(match.group(1)), item_count), item_count) or Fraction(1)
    return DEFAULT_PASS_MARK


def _fraction(value: object) -> Fraction | None:
    """The decimal the author typed, exactly: 0.8 is 4/5, so 4 of 5 passes."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        fraction = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    return fraction if 0 < fraction <= 1 else None


def image_url(channel_id: str, node_id: str, name: str) -> str:
    return f"/api/content/{channel_id}/contentnode/{node_id}/questions/image/{name}/"


def _split_markdown(markdown: str, channel_id: str, node_id: str) -> tuple[str, list[str]]:
    """(the text without its images, the images' URLs): math and markdown stay as text."""
    names = _IMAGE_MARKDOWN_RE.findall(markdown)
    text = unescape_markdown(_IMAGE_MARKDOWN_RE.sub("", markdown)).strip()
    return text, [image_url(channel_id, node_id, name) for name in names]


def public_questions(exercise: Exercise) -> list[dict[str, Any]]:
    """The questions as the player shows them: no `correct` anywhere."""
    questions: list[dict[str, Any]] = []
    for item in exercise.items:
        if isinstance(item, UnsupportedItem):
            widget = ", ".join(item.widgets) or "unknown"
            questions.append({"id": item.item_id, "unsupported": True, "widget": widget})
            continue
        text, images = _split_markdown(item.question, exercise.channel_id, exercise.node_id)
        choices = []
        for index, choice in enumerate(item.choices):
            choice_text, choice_images = _split_markdown(choice.markdown, exercise.channel_id,
                                                         exercise.node_id)
            choices.append({"id": choice_id(index), "text": choice_text,
                            "image": choice_images[0] if choice_images else None})
        questions.append({"id": item.item_id, "text": text,
                          "image": images[0] if images else None, "images": images,
                          "multiple": item.multiple, "choices": choices})
    return questions


def choice_id(index: int) -> str:
    return str(index)
