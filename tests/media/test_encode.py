"""Encoding an uploaded video: pure argument builders, then real ffmpeg runs on tiny clips."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from media.ffmpeg import (
    ENCODE_TARGETS,
    FFmpegError,
    FFmpegTimeoutError,
    build_encode_args,
    build_probe_args,
    build_test_video_args,
    build_thumbnail_args,
    file_url,
    probe_media,
    run_ffmpeg,
    run_ffmpeg_with_progress,
)

EXPECTED_CODECS = {"mp4": ({"h264"}, {"aac"}), "webm": ({"vp8", "vp9"}, {"vorbis", "opus"}),
                   "ogv": ({"theora"}, {"vorbis"})}


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def _ffmpeg_children() -> list[int]:
    """Processes of ours still running ffmpeg (a killed and reaped one is not listed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"ffmpeg" in command:
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 1 s 160x90 clip with a tone, made once for the module."""
    path = tmp_path_factory.mktemp("clips") / "lesson.mp4"
    run_ffmpeg(build_test_video_args(path, container="mp4", duration=1, width=160, height=90),
               timeout=60)
    return path


def test_every_target_reads_a_local_file_only_and_reports_progress(tmp_path):
    for target in ENCODE_TARGETS:
        args = build_encode_args(tmp_path / "in.mov", tmp_path / f"out.{target}", target=target)
        input_at = args.index("-i")
        assert args[input_at + 1] == file_url(tmp_path / "in.mov")
        # Restrictions are input options: they must come before the -i they restrict.
        assert _option(args[:input_at], "-protocol_whitelist") == "file"
        assert "hls" not in _option(args[:input_at], "-format_whitelist").split(",")
        assert args[-1] == file_url(tmp_path / f"out.{target}")
        assert _option(args, "-progress") == "pipe:1" and "-nostats" in args
        assert _option(args, "-pix_fmt") == "yuv420p"
        assert "scale=h=trunc(min(720\\,ih)/2)*2:w=-2" in _option(args, "-filter_complex")
        assert args.count("-map") == 2 and "0:a:0" in args


def test_each_target_gets_its_codecs_and_container(tmp_path):
    mp4 = build_encode_args(tmp_path / "a.mp4", tmp_path / "b.mp4", target="mp4")
    assert (_option(mp4, "-c:v"), _option(mp4, "-c:a"), _option(mp4, "-f")) == (
        "libx264", "aac", "mp4")
    assert _option(mp4, "-movflags") == "+faststart"
    webm = build_encode_args(tmp_path / "a.mp4", tmp_path / "b.webm", target="webm")
    assert (_option(webm, "-c:v"), _option(webm, "-c:a"), _option(webm, "-f")) == (
        "libvpx", "libvorbis", "webm")
    # The fast settings a 2-core box needs.
    assert (_option(webm, "-deadline"), _option(webm, "-cpu-used")) == ("realtime", "8")
    ogv = build_encode_args(tmp_path / "a.mp4", tmp_path / "b.ogv", target="ogv")
    assert (_option(ogv, "-c:v"), _option(ogv, "-c:a"), _option(ogv, "-f")) == (
        "libtheora", "libvorbis", "ogg")
    with pytest.raises(ValueError):
        build_encode_args(tmp_path / "a.mp4", tmp_path / "b.avi", target="avi")  # type: ignore[arg-type]


def test_a_source_without_audio_maps_no_audio_stream(tmp_path):
    args = build_encode_args(tmp_path / "a.mp4", tmp_path / "b.mp4", target="mp4",
                             has_audio=False)
    assert args.count("-map") == 1 and "0:a:0" not in args and "-c:a" not in args


def test_the_thumbnail_is_one_png_frame_320_wide(tmp_path):
    args = build_thumbnail_args(tmp_path / "a.mp4", tmp_path / "t.png", at_seconds=2.5)
    assert _option(args, "-ss") == "2.500" and args.index("-ss") < args.index("-i")
    assert _option(args, "-frames:v") == "1" and _option(args, "-c:v") == "png"
    assert "scale=h=-2:w=320" in _option(args, "-filter_complex")
    assert _option(args, "-protocol_whitelist") == "file"
    with pytest.raises(ValueError):
        build_thumbnail_args(tmp_path / "a.mp4", tmp_path / "t.png", at_seconds=-1)


def test_a_real_encode_makes_all_three_formats_and_a_thumbnail(tmp_path, clip):
    for target in ENCODE_TARGETS:
        output = tmp_path / f"out.{target}"
        seen: list[float] = []
        run_ffmpeg_with_progress(build_encode_args(clip, output, target=target),
                                 duration=1.0, on_progress=seen.append, timeout=60)
        info = probe_media(output)
        video_codecs, audio_codecs = EXPECTED_CODECS[target]
        assert set(info.codecs("video")) <= video_codecs and info.codecs("video"), info
        assert set(info.codecs("audio")) <= audio_codecs and info.codecs("audio"), info
        assert (info.streams[0].width, info.streams[0].height) == (160, 90)
        assert seen and seen[-1] <= 1.0
    # Current browsers cannot check the ogg file for us: ffmpeg decodes every frame of it.
    run_ffmpeg(["-v", "error", "-xerror", "-i", file_url(tmp_path / "out.ogv"),
                "-f", "null", "-"], timeout=60)
    thumbnail = tmp_path / "thumb.png"
    run_ffmpeg(build_thumbnail_args(clip, thumbnail, at_seconds=0.25), timeout=60)
    info = probe_media(thumbnail)
    assert info.codecs("video") == ["png"] and info.streams[0].width == 320


def test_a_source_without_audio_encodes(tmp_path):
    silent = tmp_path / "silent.mp4"
    run_ffmpeg(["-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=12:duration=1",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", file_url(silent)], timeout=60)
    assert probe_media(silent).codecs("audio") == []
    output = tmp_path / "out.webm"
    run_ffmpeg_with_progress(build_encode_args(silent, output, target="webm", has_audio=False),
                             duration=1.0, on_progress=lambda seconds: None, timeout=60)
    info = probe_media(output)
    assert info.codecs("video") == ["vp8"] and info.codecs("audio") == []


def _endless(*extra: str) -> list[str]:
    """A source that only a kill ends, with progress blocks every 0.05 s."""
    return ["-v", "error", "-progress", "pipe:1", "-nostats", "-stats_period", "0.05",
            "-re", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=25", *extra, "-f", "null", "-"]


def test_progress_comes_in_increasing_seconds_capped_at_the_duration():
    seen: list[float] = []
    # -re reads the 2 s source in real time, so there are several progress blocks.
    run_ffmpeg_with_progress(
        ["-v", "error", "-progress", "pipe:1", "-nostats", "-stats_period", "0.05", "-re",
         "-f", "lavfi", "-i", "testsrc=size=160x90:rate=25:duration=2", "-f", "null", "-"],
        duration=1.5, on_progress=seen.append, timeout=60)
    assert len(seen) >= 3
    assert seen == sorted(set(seen))  # strictly increasing
    assert seen[-1] == 1.5  # the claimed duration caps what a longer file reports


def test_a_run_past_its_time_limit_is_killed():
    seen: list[float] = []
    started = time.monotonic()
    with pytest.raises(FFmpegTimeoutError):
        run_ffmpeg_with_progress(_endless(), duration=None, on_progress=seen.append,
                                 timeout=1.0)
    assert time.monotonic() - started < 10
    assert seen, "progress was reported before the limit"
    assert _ffmpeg_children() == []


class StopNow(BaseException):
    """Like jobs.errors.JobCancelledError: a BaseException raised from the progress report."""


def test_ffmpeg_is_killed_when_the_progress_report_raises():
    calls = []

    def cancel_at_the_third_report(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 3:
            raise StopNow()

    started = time.monotonic()
    with pytest.raises(StopNow):
        run_ffmpeg_with_progress(_endless(), duration=None,
                                 on_progress=cancel_at_the_third_report, timeout=60)
    assert len(calls) == 3 and time.monotonic() - started < 10
    assert _ffmpeg_children() == []


def test_a_text_file_fails_with_ffmpegs_reason(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("These are my lesson notes, not a video.\n" * 20)
    with pytest.raises(FFmpegError) as caught:
        run_ffmpeg_with_progress(build_encode_args(text, tmp_path / "out.mp4", target="mp4"),
                                 duration=None, on_progress=lambda seconds: None, timeout=60)
    assert "Invalid data found when processing input" in caught.value.stderr_tail
    with pytest.raises(FFmpegError) as probed:
        probe_media(text, untrusted=True)
    assert "Invalid data found when processing input" in str(probed.value)


def test_an_untrusted_probe_refuses_formats_that_are_not_video_containers(tmp_path, clip):
    image = tmp_path / "still.mp4"  # a PNG under a video's name: ffmpeg would take it
    run_ffmpeg(build_thumbnail_args(clip, image.with_suffix(".png"), at_seconds=0), timeout=60)
    image.write_bytes(image.with_suffix(".png").read_bytes())
    assert probe_media(image).codecs("video") == ["png"]
    with pytest.raises(FFmpegError) as caught:
        probe_media(image, untrusted=True)
    assert "Format not on whitelist" in str(caught.value)
    assert build_probe_args(image, untrusted=True).index("-format_whitelist") < \
        build_probe_args(image, untrusted=True).index("-i")
