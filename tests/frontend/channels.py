"""Channels for the page tests: a media channel with every player, built for real.

    channel = build_media_channel(make_channel)
    client.get(f"/channels/{channel.channel_id}/content/{VIDEO_ID}/")
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Callable

from channels.builder import BuildResult, FileSpec, NodeSpec

def exercise_file() -> bytes:
    """A minimal Kolibri exercise zip: the builder reads its exercise.json."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("exercise.json", json.dumps({"all_assessment_items": ["apples"],
                                                      "mastery_model": "do_all"}))
        archive.writestr("apples.json", json.dumps({"question": {"content": "How many?"}}))
    return buffer.getvalue()


LESSONS_ID = "10000000000000000000000000000001"
VIDEO_ID = "10000000000000000000000000000002"
AUDIO_ID = "10000000000000000000000000000003"
PDF_ID = "10000000000000000000000000000004"
EXERCISE_ID = "10000000000000000000000000000005"
EMPTY_VIDEO_ID = "10000000000000000000000000000006"
EXTRAS_ID = "10000000000000000000000000000007"
ROOT_ID = "10000000000000000000000000000000"

# A 1x1 PNG: enough for a thumbnail row and a data URI.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc000000301010018dd8db40000000049454e44ae426082")
CHANNEL_THUMBNAIL = "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()


def media_tree() -> NodeSpec:
    """Root → "Lessons" (video, audio, PDF) and "Extras" (exercise, a video with no files)."""
    video = NodeSpec(
        id=VIDEO_ID, title="Counting to ten", kind="video",
        description="Count along with the video.",
        files=[
            # Deliberately out of order: the page must list mp4, then webm, then ogg.
            FileSpec(preset="ogg_video", extension="ogv", source=b"ogg video bytes"),
            FileSpec(preset="high_res_video", extension="webm", source=b"webm video bytes"),
            FileSpec(preset="high_res_video", extension="mp4", source=b"mp4 video bytes"),
            FileSpec(preset="video_subtitle", extension="vtt", lang="en",
                     source=b"WEBVTT\n\n00:00.000 --> 00:01.000\nOne\n"),
            FileSpec(preset="video_subtitle", extension="vtt", lang="fr",
                     source=b"WEBVTT\n\n00:00.000 --> 00:01.000\nUn\n"),
            FileSpec(preset="video_thumbnail", extension="png", source=PNG_BYTES),
        ])
    audio = NodeSpec(id=AUDIO_ID, title="Counting song", kind="audio",
                     files=[FileSpec(preset="audio", extension="mp3", source=b"mp3 bytes")])
    pdf = NodeSpec(id=PDF_ID, title="Counting worksheet", kind="document",
                   files=[FileSpec(preset="document", extension="pdf",
                                   source=b"%PDF-1.4 worksheet\n")])
    exercise = NodeSpec(id=EXERCISE_ID, title="Count the apples", kind="exercise",
                        files=[FileSpec(preset="exercise", extension="perseus",
                                        source=exercise_file())])
    empty_video = NodeSpec(id=EMPTY_VIDEO_ID, title="Missing film", kind="video")
    lessons = NodeSpec(id=LESSONS_ID, title="Lessons", kind="topic",
                       description="Start here.", children=[video, audio, pdf])
    extras = NodeSpec(id=EXTRAS_ID, title="Extras", kind="topic",
                      children=[exercise, empty_video])
    return NodeSpec(id=ROOT_ID, title="Numbers root", kind="topic", children=[lessons, extras])


def build_media_channel(make_channel: Callable[..., BuildResult]) -> BuildResult:
    return make_channel("numbers", root=media_tree(), description="Learn to count.",
                        version_label="spring term", thumbnail=CHANNEL_THUMBNAIL,
                        languages={"en": "English", "fr": "Français"})
