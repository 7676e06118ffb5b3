"""Courses built for real for the learning tests: test sets written by authoring's own
exercise writer, videos and documents, a root that says whether videos are required.

    course = make_course("maths", tests=[quiz("Quiz", [question("2+2?", [("4", True),
                                                                            ("5", False)])])])
    course.test_ids[0], course.video_ids[0], course.document_ids[0]
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from rest_framework.test import APIClient

from authoring.testsets import build_exercise_file, exercise_options
from channels.builder import FileSpec, NodeSpec, stable_id


def question(text: str, answers: list[tuple[str, bool]], *, multiple: bool = False,
             image: str | None = None, answer_images: dict[int, str] | None = None,
             key: str | None = None) -> dict[str, Any]:
    answer_images = answer_images or {}
    return {"id": stable_id("question", key or text), "text": text, "multiple": multiple,
            "image": image,
            "answers": [{"id": stable_id("answer", key or text, index), "text": answer_text,
                         "correct": correct, "image": answer_images.get(index)}
                        for index, (answer_text, correct) in enumerate(answers)]}


def quiz(title: str, questions: list[dict[str, Any]], *, pass_mark: float = 0.8,
             max_attempts: int | None = None, display: str = "one") -> dict[str, Any]:
    return {"id": stable_id("test set", title), "title": title, "pass_mark": pass_mark,
            "display": display, "max_attempts": max_attempts, "topic": "",
            "questions": questions}


# Tiny but real PNGs: one pixel, two colours, so two images have two checksums.
RED_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478"
    "9c63f8cfc000000301010018dd8db00000000049454e44ae426082")
BLUE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478"
    "9c636060f80f0001040100b2a4d2c90000000049454e44ae426082")
IMAGES = {"red": (RED_PNG, "png"), "blue": (BLUE_PNG, "png")}


def exercise_node(test_set_value: dict[str, Any]) -> NodeSpec:
    data = build_exercise_file(test_set_value, image_loader=lambda file_id: IMAGES[file_id])
    return NodeSpec(title=test_set_value["title"], kind="exercise", id=test_set_value["id"],
                    content_id=stable_id("test set content", test_set_value["id"]),
                    options=exercise_options(test_set_value),
                    files=[FileSpec("exercise", "perseus", data)])


def kolibri_exercise_file(*, m: int, n: int, unsupported: bool = True,
                          radio: bool = True) -> bytes:
    """An exercise as Kolibri channels carry it: a mastery model, no options of ours, and a
    question with a widget our player does not show (a number input)."""
    radio_item = {"question": {"content": "Pick $\\frac{1}{2}$\n\n[[\u2603 radio 1]]",
                               "images": {},
                               "widgets": {"radio 1": {"type": "radio", "options": {
                                   "choices": [{"content": "half", "correct": True},
                                               {"content": "third", "correct": False}],
                                   "multipleSelect": False}}}},
                  "answerArea": {}, "hints": []}
    number = {"question": {"content": "Type 3\n\n[[\u2603 numeric-input 1]]", "images": {},
                           "widgets": {"numeric-input 1": {"type": "numeric-input",
                                                           "options": {}}}},
              "answerArea": {}, "hints": []}
    items = {"k1": radio_item, "k2": radio_item} if radio else {}
    if unsupported:
        items["k3"] = number
    manifest = {"all_assessment_items": list(items), "assessment_mapping": {},
                "mastery_model": {"type": "m_of_n", "m": m, "n": n}, "randomize": False}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("exercise.json", json.dumps(manifest))
        for item_id, item in items.items():
            archive.writestr(f"{item_id}.json", json.dumps(item))
    return buffer.getvalue()


def video_node(label: str, title: str) -> NodeSpec:
    return NodeSpec(title=title, kind="video", id=stable_id(label, "video", title),
                    files=[FileSpec("high_res_video", "mp4",
                                    f"not really an mp4: {label} {title}".encode())])


def document_node(label: str, title: str) -> NodeSpec:
    return NodeSpec(title=title, kind="document", id=stable_id(label, "document", title),
                    files=[FileSpec("document", "pdf", f"%PDF-1.4 {label} {title}".encode())])


@dataclass
class Course:
    channel_id: str
    root_id: str
    test_ids: list[str] = field(default_factory=list)
    video_ids: list[str] = field(default_factory=list)
    document_ids: list[str] = field(default_factory=list)


@pytest.fixture
def make_course(make_channel) -> Callable[..., Course]:
    def make(label: str = "course", *, tests: list[dict[str, Any]] | None = None,
             videos: int = 1, documents: int = 1, require_videos: bool = False,
             extra: list[NodeSpec] | None = None, version_label: str = "") -> Course:
        channel_id = stable_id("channel", label)
        root = NodeSpec(title=label.title(), kind="topic", id=stable_id(label, "root"),
                        options={"kolibri_like_course": {"require_videos": require_videos,
                                                         "version_label": version_label,
                                                         "topics": []}})
        topic = NodeSpec(title="Lessons", kind="topic", id=stable_id(label, "topic"))
        course = Course(channel_id=channel_id, root_id=root.id or "")
        for index in range(videos):
            node = video_node(label, f"Video {index}")
            topic.children.append(node)
            course.video_ids.append(node.id or "")
        for index in range(documents):
            node = document_node(label, f"Reading {index}")
            topic.children.append(node)
            course.document_ids.append(node.id or "")
        root.children.append(topic)
        for value in tests or []:
            node = exercise_node(value)
            root.children.append(node)
            course.test_ids.append(node.id or "")
        root.children.extend(extra or [])
        make_channel(label, channel_id=channel_id, root=root, version_label=version_label)
        return course

    return make


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
