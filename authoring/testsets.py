"""Test sets of the course wizard (step 3): check what the page sends, and turn one test set into
the exercise Kolibri plays (a `.perseus` file of radio items, CHANNEL_FORMAT.md).

A test set is `{id, title, pass_mark, display, max_attempts, topic, questions: [{id, text,
multiple, image, answers: [{id, text, correct, image}]}]}`; `image` is the id of an image
uploaded to the same draft. Ids are 32 lowercase hex and stay the same across saves: the test
set's id becomes the exercise node's id and a question's id its assessment item id, so learners
keep their progress when a course is edited.

Errors map the path of each wrong field (as the page's form names it, indexes from 0) to what
to do, e.g. `{"0.title": "a test set needs a title",
"0.questions.1.answers": "mark exactly one answer correct (single choice)"}`; "" is the list
itself. `drafts.update_draft` answers them under `test_sets`.

    clean, errors = clean_test_sets(payload["test_sets"], draft)
    data = build_exercise_file(clean[0], image_loader=load_image)   # (bytes, extension)
    options = exercise_options(clean[0])
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Callable
from fractions import Fraction
from typing import Any, TypeGuard

from django.utils.translation import gettext

from authoring.drafts import parse_draft_id
from authoring.models import Draft, DraftFile
from content.perseus import (
    RadioChoice,
    RadioItem,
    escape_markdown,
    image_markdown,
    write_exercise,
)

MAX_TEST_SETS = 50
MAX_TITLE = 200
MAX_TOPIC = 200
MAX_QUESTIONS = 200
MAX_QUESTION_TEXT = 2000
MIN_ANSWERS = 2
MAX_ANSWERS = 10
MAX_ANSWER_TEXT = 500
MAX_ATTEMPTS = 100
DEFAULT_PASS_MARK = 0.8
DISPLAYS = ("one", "all")
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif"})
TEST_SET_KEYS = frozenset({"id", "title", "pass_mark", "display", "max_attempts", "topic",
                           "questions"})
QUESTION_KEYS = frozenset({"id", "text", "multiple", "image", "answers"})
ANSWER_KEYS = frozenset({"id", "text", "correct", "image"})
_HEX_ID_RE = re.compile(r"[0-9a-f]{32}")

ImageLoader = Callable[[str], tuple[bytes, str]]
Errors = dict[str, str]


def clean_test_sets(raw: object, draft: Draft) -> tuple[list[dict[str, Any]], Errors]:
    """The test sets in canonical form (defaults filled, texts stripped, ids kept or made) and
    the errors by path; the clean list is only meant to be saved when there are none."""
    errors: Errors = {}
    if not isinstance(raw, list):
        return [], {"": gettext("send a list of test sets")}
    if len(raw) > MAX_TEST_SETS:
        return [], {"": gettext("at most %(count)s test sets per course") % {"count": MAX_TEST_SETS}}
    checker = _Checker(draft, errors)
    clean = [checker.test_set(str(index), value) for index, value in enumerate(raw)]
    checker.check_images()
    return clean, errors


class _Checker:
    """One pass over the payload. Ids already taken (other test sets, the draft's file nodes,
    other questions) are replaced, so a copied question never shares its item id."""

    def __init__(self, draft: Draft, errors: Errors) -> None:
        self.draft = draft
        self.errors = errors
        self.node_ids = set(draft.files.values_list("node_id", flat=True))
        self.question_ids: set[str] = set()
        # image id as sent -> the paths that use it, checked in one query at the end.
        self.images: dict[str, list[str]] = {}

    def test_set(self, path: str, value: object) -> dict[str, Any]:
        if not self._is_object(value, path, TEST_SET_KEYS):
            return {}
        title = self._text(f"{path}.title", value.get("title", ""), MAX_TITLE)
        if title == "" and f"{path}.title" not in self.errors:
            self.errors[f"{path}.title"] = gettext("a test set needs a title")
        questions = value.get("questions", [])
        clean_questions: list[dict[str, Any]] = []
        if not isinstance(questions, list):
            self.errors[f"{path}.questions"] = gettext("must be a list of questions")
        elif not 1 <= len(questions) <= MAX_QUESTIONS:
            self.errors[f"{path}.questions"] = (
                gettext("a test set needs 1 to %(most)s questions (it has %(count)s)")
                % {"most": MAX_QUESTIONS, "count": len(questions)})
        else:
            clean_questions = [self.question(f"{path}.questions.{index}", question)
                               for index, question in enumerate(questions)]
        return {
            "id": self._id(value.get("id"), self.node_ids),
            "title": title,
            "pass_mark": self._pass_mark(f"{path}.pass_mark", value),
            "display": self._display(f"{path}.display", value),
            "max_attempts": self._max_attempts(f"{path}.max_attempts", value),
            "topic": self._text(f"{path}.topic", value.get("topic", ""), MAX_TOPIC),
            "questions": clean_questions,
        }

    def question(self, path: str, value: object) -> dict[str, Any]:
        if not self._is_object(value, path, QUESTION_KEYS):
            return {}
        text = self._text(f"{path}.text", value.get("text", ""), MAX_QUESTION_TEXT)
        image = self._image(f"{path}.image", value.get("image"))
        if not text and image is None and f"{path}.text" not in self.errors:
            self.errors[f"{path}.text"] = gettext("a question needs a text or an image")
        multiple = value.get("multiple", False)
        if not isinstance(multiple, bool):
            self.errors[f"{path}.multiple"] = gettext("must be true (multiple choice) or false")
            multiple = False
        answers = value.get("answers", [])
        clean_answers: list[dict[str, Any]] = []
        if not isinstance(answers, list):
            self.errors[f"{path}.answers"] = gettext("must be a list of answers")
        elif not MIN_ANSWERS <= len(answers) <= MAX_ANSWERS:
            self.errors[f"{path}.answers"] = (
                gettext("a question needs %(least)s to %(most)s answers (it has %(count)s)")
                % {"least": MIN_ANSWERS, "most": MAX_ANSWERS, "count": len(answers)})
        else:
            answer_ids: set[str] = set()
            errors_before = len(self.errors)
            clean_answers = [self.answer(f"{path}.answers.{index}", answer, answer_ids)
                             for index, answer in enumerate(answers)]
            # Counting correct answers means nothing until every answer is well formed.
            if len(self.errors) == errors_before:
                self._count_correct(f"{path}.answers", multiple, clean_answers)
        return {"id": self._id(value.get("id"), self.question_ids), "text": text,
                "multiple": multiple, "image": image, "answers": clean_answers}

    def answer(self, path: str, value: object, answer_ids: set[str]) -> dict[str, Any]:
        if not self._is_object(value, path, ANSWER_KEYS):
            return {}
        text = self._text(f"{path}.text", value.get("text", ""), MAX_ANSWER_TEXT)
        image = self._image(f"{path}.image", value.get("image"))
        if not text and image is None and f"{path}.text" not in self.errors:
            self.errors[f"{path}.text"] = gettext("an answer needs a text or an image")
        correct = value.get("correct", False)
        if not isinstance(correct, bool):
            self.errors[f"{path}.correct"] = gettext("must be true or false")
            correct = False
        return {"id": self._id(value.get("id"), answer_ids), "text": text,
                "correct": correct, "image": image}

    def _count_correct(self, path: str, multiple: bool, answers: list[dict[str, Any]]) -> None:
        correct = sum(1 for answer in answers if answer["correct"])
        if multiple and correct == 0:
            self.errors[path] = gettext("mark at least one answer correct")
        elif not multiple and correct != 1:
            self.errors[path] = gettext("mark exactly one answer correct (single choice), or "
                                        "make the question multiple choice")

    def check_images(self) -> None:
        """Every image must be a finished image upload of this draft (not of another one)."""
        parsed = {sent: parse_draft_id(sent, canonical=False) for sent in self.images}
        found = {item.id: item for item in DraftFile.objects.filter(
            draft=self.draft, id__in=[value for value in parsed.values() if value])}
        for sent, paths in self.images.items():
            file_id = parsed[sent]
            item = found.get(file_id) if file_id else None
            problem = _image_problem(item)
            for path in paths:
                if problem:
                    self.errors[path] = problem

    def _image(self, path: str, value: object) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.errors[path] = gettext("must be the id of an image uploaded to this course, or "
                                        "null")
            return None
        parsed = parse_draft_id(value, canonical=False)
        # Stored as the file API writes ids, so publishing finds the file by str(file.id).
        normalized = str(parsed) if parsed else value
        self.images.setdefault(normalized, []).append(path)
        return normalized

    def _is_object(self, value: object, path: str,
                   keys: frozenset[str]) -> TypeGuard[dict[str, Any]]:
        if not isinstance(value, dict):
            self.errors[path] = gettext("must be an object")
            return False
        unknown = sorted(str(key) for key in set(value) - keys)
        if unknown:
            self.errors[path] = (gettext("unknown field(s) %(unknown)s; known: %(known)s")
                                 % {"unknown": ", ".join(unknown),
                                    "known": ", ".join(sorted(keys))})
        return True

    def _text(self, path: str, value: object, limit: int) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.errors[path] = gettext("must be text")
            return ""
        value = value.strip()
        if len(value) > limit:
            self.errors[path] = (gettext("at most %(limit)s characters (it has %(count)s)")
                                 % {"limit": limit, "count": len(value)})
        return value

    def _id(self, value: object, taken: set[str]) -> str:
        """Keep a well-formed id not used yet; otherwise make a new one."""
        if not (isinstance(value, str) and _HEX_ID_RE.fullmatch(value)) or value in taken:
            value = uuid.uuid4().hex
        taken.add(value)
        return value

    def _pass_mark(self, path: str, value: dict[str, Any]) -> float:
        pass_mark = value.get("pass_mark", DEFAULT_PASS_MARK)
        if (isinstance(pass_mark, bool) or not isinstance(pass_mark, int | float)
                or not math.isfinite(pass_mark) or not 0 < pass_mark <= 1):
            self.errors[path] = gettext("must be a number above 0 and at most 1 (0.8 is 80%)")
            return DEFAULT_PASS_MARK
        return float(pass_mark)

    def _display(self, path: str, value: dict[str, Any]) -> str:
        display = value.get("display", "one")
        if display not in DISPLAYS:
            self.errors[path] = gettext('must be "one" (one question at a time) or "all"')
            return "one"
        return str(display)

    def _max_attempts(self, path: str, value: dict[str, Any]) -> int | None:
        attempts = value.get("max_attempts")
        if attempts is None:
            return None
        if isinstance(attempts, bool) or not isinstance(attempts, int) \
                or not 1 <= attempts <= MAX_ATTEMPTS:
            self.errors[path] = (gettext("must be null (unlimited) or a whole number 1 to %(most)s")
                                 % {"most": MAX_ATTEMPTS})
            return None
        return int(attempts)


def _image_problem(item: DraftFile | None) -> str:
    if item is None:
        return gettext("no such file in this course; upload the image first")
    if item.file_type != "image" or item.extension.lower() not in IMAGE_EXTENSIONS:
        return gettext("%(name)s is not an image (PNG, JPEG or GIF)") % {"name": item.name}
    if item.state == DraftFile.State.UPLOADING:
        return (gettext("%(name)s is still uploading; choose it again once it is Finished")
                % {"name": item.name})
    if item.state != DraftFile.State.FINISHED or not item.checksum:
        return (gettext("%(name)s could not be stored (%(reason)s); upload it again")
                % {"name": item.name, "reason": item.error or item.state})
    return ""


def mastery_model(test_set: dict[str, Any]) -> dict[str, Any]:
    """Pass = at least `pass_mark` of the questions right, rounded up (0.8 of 5 is 4)."""
    count = len(test_set["questions"])
    # Fraction of the decimal text: 0.8 * 5 in floats is 4.000000000000001, which rounds up to 5.
    needed = math.ceil(Fraction(str(test_set["pass_mark"])) * count)
    return {"type": "m_of_n", "m": max(1, min(count, needed)), "n": count}


def build_exercise_file(test_set: dict[str, Any], *, image_loader: ImageLoader) -> bytes:
    """The `.perseus` file of one clean test set; `image_loader(file_id)` gives an image's bytes
    and extension. Images are named by their MD5, so one image used twice is stored once."""
    loaded: dict[str, tuple[str, bytes]] = {}

    def image(file_id: str | None, images: dict[str, bytes]) -> str:
        if not file_id:
            return ""
        if file_id not in loaded:
            data, extension = image_loader(file_id)
            name = f"{hashlib.md5(data).hexdigest()}.{extension.lower().lstrip('.')}"
            loaded[file_id] = (name, data)
        name, data = loaded[file_id]
        images[name] = data
        return image_markdown(name)

    items = []
    for question in test_set["questions"]:
        images: dict[str, bytes] = {}
        question_markdown = _join(escape_markdown(question["text"]),
                                  image(question["image"], images))
        choices = tuple(RadioChoice(_join(escape_markdown(answer["text"]),
                                          image(answer["image"], images)),
                                    bool(answer["correct"]))
                        for answer in question["answers"])
        items.append(RadioItem(question["id"], question_markdown, choices,
                               multiple=bool(question["multiple"]), images=images))
    return write_exercise(items, mastery_model=mastery_model(test_set), randomize=False)


def _join(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


def exercise_options(test_set: dict[str, Any]) -> dict[str, Any]:
    """The exercise node's `options`: our player's settings, and Kolibri's completion criteria
    (mastery of the same m of n), so Kolibri marks the exercise complete when ours would."""
    model = mastery_model(test_set)
    return {
        "kolibri_like_test": {"pass_mark": test_set["pass_mark"],
                              "display": test_set["display"],
                              "max_attempts": test_set["max_attempts"]},
        "completion_criteria": {
            "model": "mastery", "learner_managed": False,
            "threshold": {"mastery_model": "m_of_n", "m": model["m"], "n": model["n"]}},
    }
