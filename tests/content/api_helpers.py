"""Shared helpers of the content API tests: a richer channel and short URL builders."""

from __future__ import annotations

from channels.builder import FileSpec, NodeSpec

PNG = b"\x89PNG\r\n\x1a\n fake image bytes "


def nodes_url(channel_id: str, node_id: str | None = None) -> str:
    if node_id is None:
        return f"/api/content/{channel_id}/contentnode/"
    return f"/api/content/{channel_id}/contentnode/{node_id}/"


def files_url(channel_id: str) -> str:
    return f"/api/content/{channel_id}/file/"


def media_tree(label: str = "media") -> NodeSpec:
    """A topic with a captioned video (mp4 + webm + thumbnail + vtt), an audio and a PDF."""
    video = NodeSpec(
        title=f"{label} video", kind="video", description="Counting with fractions",
        files=[
            FileSpec(preset="high_res_video", extension="mp4", source=f"{label} mp4".encode()),
            FileSpec(preset="low_res_video", extension="webm", source=f"{label} webm".encode()),
            FileSpec(preset="video_thumbnail", extension="png", source=PNG + label.encode()),
            FileSpec(preset="video_subtitle", extension="vtt", lang="en",
                     source=f"WEBVTT\n\n00:00.000 --> 00:01.000\n{label}\n".encode()),
        ])
    audio = NodeSpec(title=f"{label} audio", kind="audio", description="A SONG about shapes",
                     files=[FileSpec(preset="audio", extension="mp3",
                                     source=f"{label} mp3".encode())])
    document = NodeSpec(title=f"{label} reading", kind="document",
                        files=[FileSpec(preset="document", extension="pdf",
                                        source=f"%PDF-1.4 {label}".encode())])
    lesson = NodeSpec(title=f"{label} lesson", kind="topic", description="Fractions, sung",
                      children=[video, audio, document])
    empty = NodeSpec(title=f"{label} empty topic", kind="topic")
    return NodeSpec(title=f"{label} root", kind="topic", children=[lesson, empty])
