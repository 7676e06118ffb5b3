"""A small channel with every kind and preset we build, made with our own channel builder
inside one of our servers (`kolibri-like shell`), so the Kolibri tests see what we publish.

It holds what the demo generator does not: an exercise as a `.perseus` zip (Perseus `radio`
question with an image), an HTML5 zip, an H5P file, an EPUB, a slideshow, captions in two
languages, and our own presets Kolibri does not know (ogg video, an office document, a Flash
file), which Kolibri must import and simply not render. Two topics, so one can be exported
alone as a partial drive.

    kolibri-like shell -c "from tests.interop.every_kind import main; main()"   # JSON ids
"""

from __future__ import annotations

import base64
import io
import json
import zipfile

from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel, stable_id

CHANNEL_ID = stable_id("interop", "every kind")
# 1x1 PNG: Kolibri does not decode thumbnails, it only stores and serves their bytes.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(members.items()):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


def perseus_exercise(item_id: str) -> bytes:
    """Kolibri's exercise file: exercise.json plus one Perseus item with a `radio` widget."""
    item = {
        "question": {"content": "Which is a mammal?\n\n![a cat](${\u2623 LOCALPATH}/images/cat.png)"
                                "\n\n[[\u2603 radio 1]]",
                     "images": {}, "widgets": {"radio 1": {
                         "type": "radio", "graded": True, "version": {"major": 1, "minor": 0},
                         "options": {"choices": [{"content": "Cat", "correct": True},
                                                 {"content": "Trout", "correct": False}],
                                     "randomize": False, "multipleSelect": False}}}},
        "answerArea": {"calculator": False}, "itemDataVersion": {"major": 0, "minor": 1},
        "hints": [],
    }
    return _zip({
        "exercise.json": json.dumps({"all_assessment_items": [item_id],
                                     "assessment_mapping": {item_id: "single_selection"},
                                     "mastery_model": {"type": "m_of_n", "m": 1, "n": 1},
                                     "randomize": False}),
        f"{item_id}.json": json.dumps(item),
        "images/cat.png": PNG,
    })


def channel_spec() -> ChannelSpec:
    media = NodeSpec(title="Media", kind="topic", files=[
        FileSpec("topic_thumbnail", "png", PNG)], children=[
        NodeSpec(title="A video with captions", kind="video", lang="en", duration=2, files=[
            FileSpec("high_res_video", "mp4", b"\x00\x00\x00\x18ftypmp42 interop video"),
            FileSpec("low_res_video", "webm", b"\x1aE\xdf\xa3 interop webm"),
            FileSpec("video_subtitle", "vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n",
                     lang="en"),
            FileSpec("video_subtitle", "vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nHola\n",
                     lang="es-419"),
            FileSpec("video_thumbnail", "png", PNG)]),
        NodeSpec(title="An ogg video", kind="video", files=[
            FileSpec("ogg_video", "ogv", b"OggS interop theora")]),
        NodeSpec(title="A recording", kind="audio", files=[
            FileSpec("audio", "mp3", b"ID3 interop audio")]),
    ])
    reading = NodeSpec(title="Reading and doing", kind="topic", children=[
        NodeSpec(title="A worksheet", kind="document", files=[
            FileSpec("document", "pdf", b"%PDF-1.4 interop worksheet\n"),
            FileSpec("document_thumbnail", "png", PNG)]),
        NodeSpec(title="A book", kind="document", files=[
            FileSpec("epub", "epub", _zip({"mimetype": "application/epub+zip"}))]),
        NodeSpec(title="A word file", kind="document", files=[
            FileSpec("office_document", "docx", _zip({"word/document.xml": "<w/>"}))]),
        NodeSpec(title="A test set", kind="exercise", files=[
            FileSpec("exercise", "perseus", perseus_exercise(stable_id("interop", "item 1"))),
            FileSpec("exercise_thumbnail", "png", PNG)]),
        NodeSpec(title="An HTML5 app", kind="html5", files=[
            FileSpec("html5_zip", "zip", _zip({"index.html": "<h1>interop</h1>"}))]),
        NodeSpec(title="A Flash game", kind="html5", files=[
            FileSpec("flash", "swf", b"FWS interop")]),
        NodeSpec(title="An H5P activity", kind="h5p", files=[
            FileSpec("h5p", "h5p", _zip({"h5p.json": "{}", "content/content.json": "{}"}))]),
        NodeSpec(title="A slideshow", kind="slideshow", files=[
            FileSpec("slideshow_manifest", "json", json.dumps(
                {"slideshow_data": [{"checksum": "", "sort_order": 1}]}).encode()),
            FileSpec("slideshow_image", "png", PNG + b"slide")]),
    ])
    return ChannelSpec(name="Interop: every kind", id=CHANNEL_ID, author="kolibri-like tests",
                       description="Every kind and preset we build.",
                       languages={"en": "English", "es-419": "Español"},
                       root=NodeSpec(title="Interop: every kind", kind="topic",
                                     children=[media, reading]))


def main() -> None:
    """Build the channel and print, as JSON on the last line, its id and its topics' ids."""
    spec = channel_spec()
    result = build_channel(spec)
    media, reading = spec.root.children
    print(json.dumps({"channel_id": result.channel_id,
                      "topics": {"media": media.id, "reading": reading.id}}))
