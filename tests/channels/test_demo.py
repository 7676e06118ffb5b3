"""Demo channels: reproducible trees, real media, a thumbnail per node, what the player gets."""

from __future__ import annotations

import hashlib
import re

import pytest

from channels.builder import NodeSpec, stable_id, walk
from channels.demo.generate import generate_demo_channel
from channels.demo.media import (
    AudioTone,
    DemoMedia,
    StoredMedia,
    VideoClip,
    caption_vtt,
    media_cache_folder,
)
from channels.demo.thumbnails import encode_png, node_thumbnail
from channels.demo.tree import (
    MAX_CHILD_TOPICS,
    DemoSizeError,
    build_demo_spec,
    demo_channel_id,
)
from channels.models import Channel
from content.models import ContentNode, File
from content.rendering import render_node
from media.ffmpeg import probe_media
from routers.context import using_content_database
from storage.paths import storage_path

LEAF_KINDS = {"video", "audio", "document"}


@pytest.fixture(scope="module")
def media_cache(tmp_path_factory):
    """ffmpeg runs once per seed for this module; each test still stores into its own store."""
    return tmp_path_factory.mktemp("demo-media")


def fake_media() -> DemoMedia:
    """Media records without files: enough to plan trees without running ffmpeg."""

    def stored(preset: str, extension: str, index: int, lang: str | None = None) -> StoredMedia:
        return StoredMedia(preset, extension, stable_id(preset, extension, index), 100, lang)

    return DemoMedia(
        videos=[VideoClip(stored("high_res_video", "mp4", index),
                          stored("high_res_video", "webm", index),
                          stored("video_subtitle", "vtt", index, "en"), 3)
                for index in range(3)],
        audios=[AudioTone(stored("audio", "mp3", index), 6) for index in range(2)],
        documents=[stored("document", "pdf", index) for index in range(2)])


def outline(root: NodeSpec) -> list[tuple[str | None, str, str, int]]:
    """What a learner sees of the tree: ids, titles, kinds and how many children."""
    return [(node.id, node.title, node.kind, len(node.children)) for node in walk(root)]


def test_the_same_seed_plans_the_same_tree():
    first = build_demo_spec(seed=4, nodes=500, media=fake_media())
    second = build_demo_spec(seed=4, nodes=500, media=fake_media())
    assert first.id == second.id == demo_channel_id(4)
    assert outline(first.root) == outline(second.root)


def test_another_seed_plans_another_channel():
    first = build_demo_spec(seed=1, nodes=200, media=fake_media())
    second = build_demo_spec(seed=2, nodes=200, media=fake_media())
    assert first.id != second.id
    assert first.name == "Demo: Science" and second.name == "Demo: Mathematics"
    assert not {node.id for node in walk(first.root)} & {node.id for node in walk(second.root)}


def test_the_tree_has_exactly_n_nodes_shaped_like_a_course():
    spec = build_demo_spec(seed=9, nodes=2000, media=fake_media())
    nodes = list(walk(spec.root))
    assert len(nodes) == 2000
    depth = {spec.root.id: 0}
    for node in nodes:
        for child in node.children:
            depth[child.id] = depth[node.id] + 1
        if node.kind == "topic":
            assert node.children, f"empty topic {node.title}"
            assert len({child.title for child in node.children}) == len(node.children)
            assert sum(child.kind == "topic" for child in node.children) <= MAX_CHILD_TOPICS
        else:
            assert node.kind in LEAF_KINDS and not node.children
    assert 3 <= max(depth.values()) <= 5
    assert [node.title for node in spec.root.children[:2]] == [
        "Unit 1: Living things", "Unit 2: Forces and motion"]


def test_every_node_of_a_big_tree_has_its_own_thumbnail():
    spec = build_demo_spec(seed=3, nodes=2000, media=fake_media())
    thumbnails = [file_spec.source for node in walk(spec.root) for file_spec in node.files
                  if file_spec.preset.endswith("_thumbnail")]
    assert len(thumbnails) == 1999  # every node but the root (the channel has its own)
    assert all(isinstance(png, bytes) and png.startswith(b"\x89PNG") for png in thumbnails)
    assert len({hashlib.md5(png).hexdigest() for png in thumbnails}) == 1999


def test_the_first_unit_opens_with_a_video_an_audio_and_a_document():
    for nodes in (5, 40, 1000):
        spec = build_demo_spec(seed=1, nodes=nodes, media=fake_media())
        first_unit = spec.root.children[0]
        assert first_unit.kind == "topic"
        assert [child.kind for child in first_unit.children[:3]] == ["video", "audio",
                                                                    "document"]


def test_it_refuses_node_counts_it_cannot_make():
    for nodes in (0, 4, -3, 1_000_001):
        with pytest.raises(DemoSizeError) as caught:
            build_demo_spec(seed=1, nodes=nodes, media=fake_media())
        assert caught.value.exit_code == 2


def test_pngs_are_well_formed_and_distinct_per_id():
    png = node_thumbnail("0" * 31 + "1", "video")
    other = node_thumbnail("0" * 31 + "2", "video")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert int.from_bytes(png[16:20], "big") == 160 and int.from_bytes(png[20:24], "big") == 90
    assert png != other
    with pytest.raises(ValueError):
        encode_png(2, 2, [b"\x00" * 6])


def test_captions_change_every_second():
    vtt = caption_vtt("Friction", 3)
    assert vtt.startswith("WEBVTT\n")
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)", vtt)
    assert [(start, end) for start, end, _text in cues] == [
        ("00:00:00.000", "00:00:01.000"), ("00:00:01.000", "00:00:02.000"),
        ("00:00:02.000", "00:00:03.000")]
    assert len({text for _start, _end, text in cues}) == 3


def _tree_rows(channel_id: str) -> list[tuple[str, str | None, str, str, float | None]]:
    with using_content_database(channel_id):
        return list(ContentNode.objects.order_by("lft").values_list(
            "id", "parent_id", "title", "kind", "sort_order"))


@pytest.mark.django_db
def test_generating_a_seed_twice_gives_the_same_channel(media_cache):
    first = generate_demo_channel(nodes=30, seed=6, media_cache=media_cache)
    rows = _tree_rows(first.channel_id)
    second = generate_demo_channel(nodes=30, seed=6, media_cache=media_cache)
    assert second.channel_id == first.channel_id
    assert _tree_rows(second.channel_id) == rows and len(rows) == 30
    other = generate_demo_channel(nodes=30, seed=7, media_cache=media_cache)
    assert other.channel_id != first.channel_id
    assert Channel.objects.count() == 2


def _node_files(channel_id: str, kind: str) -> tuple[ContentNode, dict[str, File]]:
    node = ContentNode.objects.filter(kind=kind).order_by("lft").first()
    assert node is not None, f"no {kind} in channel {channel_id}"
    return node, {f"{file_row.preset}.{file_row.extension}": file_row
                  for file_row in node.files.all()}


def _path(file_row: File):
    return storage_path(file_row.checksum, file_row.extension)


@pytest.mark.django_db
def test_its_media_are_real(media_cache):
    result = generate_demo_channel(nodes=40, seed=1, media_cache=media_cache)
    with using_content_database(result.channel_id):
        _video, video_files = _node_files(result.channel_id, "video")
        _audio, audio_files = _node_files(result.channel_id, "audio")
        _document, document_files = _node_files(result.channel_id, "document")
    mp4 = probe_media(_path(video_files["high_res_video.mp4"]))
    assert mp4.codecs("video") == ["h264"] and mp4.codecs("audio") == ["aac"]
    assert mp4.duration and mp4.duration > 0
    webm = probe_media(_path(video_files["high_res_video.webm"]))
    assert webm.codecs("video") == ["vp8"] and webm.codecs("audio") == ["vorbis"]
    assert webm.duration and webm.duration > 0
    captions = video_files["video_subtitle.vtt"]
    assert captions.lang_id == "en" and captions.supplementary
    vtt = _path(captions).read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and vtt.count(" --> ") >= 3
    mp3 = probe_media(_path(audio_files["audio.mp3"]))
    assert mp3.codecs("audio") == ["mp3"] and mp3.duration and mp3.duration > 0
    pdf = _path(document_files["document.pdf"]).read_bytes()
    assert pdf.startswith(b"%PDF-") and len(re.findall(rb"/Type /Page\b(?!s)", pdf)) >= 3
    for files in (video_files, audio_files, document_files):
        assert sum(file_row.thumbnail for file_row in files.values()) == 1


@pytest.mark.django_db
def test_each_leaf_has_a_distinct_thumbnail_file(media_cache):
    result = generate_demo_channel(nodes=300, seed=2, media_cache=media_cache)
    assert result.node_count == 300
    with using_content_database(result.channel_id):
        leaves = ContentNode.objects.exclude(kind="topic").count()
        thumbnails = list(File.objects.filter(thumbnail=True, contentnode__kind__in=LEAF_KINDS)
                          .values_list("contentnode_id", "checksum"))
    assert leaves > 200
    assert len(thumbnails) == leaves
    assert len({checksum for _node, checksum in thumbnails}) == leaves
    assert all(storage_path(checksum, "png").is_file() for _node, checksum in thumbnails)
    # Thumbnails are distinct; the handful of media files are shared by many nodes.
    assert result.file_count < leaves + 320


@pytest.mark.django_db
def test_a_demo_video_renders_mp4_first_webm_second_with_captions(media_cache):
    result = generate_demo_channel(nodes=20, seed=1, media_cache=media_cache)
    with using_content_database(result.channel_id):
        video = ContentNode.objects.filter(kind="video").order_by("lft").first()
        rendering = render_node(video)
    assert rendering.player == "video"
    assert rendering.essential is not None and rendering.essential.extension == "mp4"
    assert [item.extension for item in rendering.alternatives] == ["webm"]
    assert [(item.extension, item.lang) for item in rendering.supplementary] == [("vtt", "en")]
    assert rendering.thumbnail is not None and rendering.thumbnail.extension == "png"
    assert rendering.essential.url.endswith(".mp4")


@pytest.mark.django_db
def test_a_seeds_media_are_made_without_the_network_and_reused(media_cache, tmp_path):
    folder = tmp_path / "cache"
    first = generate_demo_channel(nodes=10, seed=8, media_cache=folder)
    seed_folder = media_cache_folder(folder, 8)
    made = {path.name: path.stat().st_mtime_ns for path in seed_folder.iterdir()}
    assert sorted(name.rsplit(".", 1)[1] for name in made) == sorted(
        ["mp4", "webm", "vtt"] * 3 + ["mp3"] * 2 + ["pdf"] * 2)
    second = generate_demo_channel(nodes=10, seed=8, media_cache=folder)
    assert {path.name: path.stat().st_mtime_ns for path in seed_folder.iterdir()} == made
    assert second.channel_id == first.channel_id


@pytest.mark.django_db
def test_without_a_cache_the_work_folder_is_removed(content_dir):
    generate_demo_channel(nodes=6, seed=5)
    assert list((content_dir / "tmp").iterdir()) == []
