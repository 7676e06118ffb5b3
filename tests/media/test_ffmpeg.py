"""The ffmpeg adapter: pure argument builders, binary resolution, errors, real runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from media.ffmpeg import (
    FFmpegError,
    FFmpegNotFoundError,
    FFmpegTimeoutError,
    build_probe_args,
    build_test_video_args,
    build_tone_audio_args,
    ffmpeg_binary,
    file_url,
    parse_probe_output,
    probe_media,
    run_ffmpeg,
)


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_mp4_args_make_browser_friendly_h264_and_aac(tmp_path):
    args = build_test_video_args(tmp_path / "clip.mp4", container="mp4", duration=3,
                                 pattern="testsrc2", hue_degrees=90, frequency=392)
    assert _option(args, "-c:v") == "libx264"
    assert _option(args, "-c:a") == "aac"
    assert _option(args, "-pix_fmt") == "yuv420p"
    assert _option(args, "-movflags") == "+faststart"
    assert _option(args, "-f") == "lavfi"  # the first -f is the synthetic input
    assert args[-3:-1] == ["-f", "mp4"]
    assert "testsrc2=size=320x180:rate=24:duration=3" in args
    assert "sine=frequency=392:sample_rate=44100:duration=3" in args
    assert _option(args, "-vf") == "hue=h=90"
    assert args[-1] == "file:" + str((tmp_path / "clip.mp4").absolute())


def test_webm_args_use_vp8_and_vorbis(tmp_path):
    args = build_test_video_args(tmp_path / "clip.webm", container="webm")
    assert _option(args, "-c:v") == "libvpx"
    assert _option(args, "-c:a") == "libvorbis"
    assert args[-3:-1] == ["-f", "webm"]
    assert "-vf" not in args  # no hue shift asked for


def test_builders_reject_what_ffmpeg_would_choke_on(tmp_path):
    with pytest.raises(ValueError):
        build_test_video_args(tmp_path / "x.mp4", container="mp4", pattern="drawtext")
    with pytest.raises(ValueError):
        build_test_video_args(tmp_path / "x.mp4", container="mp4", width=321)
    with pytest.raises(ValueError):
        build_test_video_args(tmp_path / "x.avi", container="avi")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        build_tone_audio_args(tmp_path / "x.mp3", duration=0)


def test_paths_never_read_as_options_or_protocols(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert file_url("-y.mp4") == f"file:{tmp_path}/-y.mp4"
    assert file_url("http:evil.mp4") == f"file:{tmp_path}/http:evil.mp4"
    args = build_tone_audio_args(Path("-i.mp3"))
    assert args[-1].startswith("file:/")
    assert build_probe_args(Path("a.mp4"))[:4] == ["-loglevel", "info", "-i",
                                                   f"file:{tmp_path}/a.mp4"]


def test_mp3_args(tmp_path):
    args = build_tone_audio_args(tmp_path / "tone.mp3", duration=4, frequency=262)
    assert _option(args, "-c:a") == "libmp3lame"
    assert "sine=frequency=262:sample_rate=44100:duration=4" in args


PROBE_REPORT = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/tmp/clip.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:01:03.50, start: 0.000000, bitrate: 98 kb/s
  Stream #0:0[0x1](und): Video: h264 (Main) (avc1 / 0x31637661), yuv420p(progressive), 320x180, 24 fps
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 63 kb/s
Stream mapping:
  Stream #0:0 -> #0:0 (copy)
Output #0, null, to 'pipe:':
  Stream #0:0: Video: h264 (Main), yuv420p, 320x180, q=2-31
"""


def test_it_parses_ffmpegs_report_of_the_input_only():
    info = parse_probe_output(PROBE_REPORT)
    assert info.container == "mov,mp4,m4a,3gp,3g2,mj2"
    assert info.duration == pytest.approx(63.5)
    assert [(stream.kind, stream.codec) for stream in info.streams] == [
        ("video", "h264"), ("audio", "aac")]
    assert (info.streams[0].width, info.streams[0].height) == (320, 180)
    assert info.codecs("audio") == ["aac"]


def test_a_configured_binary_that_is_missing_is_a_clear_error(settings, tmp_path):
    settings.FFMPEG_BINARY = str(tmp_path / "no-ffmpeg-here")
    with pytest.raises(FFmpegNotFoundError, match="FFMPEG_BINARY") as caught:
        ffmpeg_binary()
    assert caught.value.exit_code == 2


def test_a_configured_binary_is_used(settings):
    import imageio_ffmpeg

    settings.FFMPEG_BINARY = imageio_ffmpeg.get_ffmpeg_exe()
    assert ffmpeg_binary() == settings.FFMPEG_BINARY


def test_it_finds_a_binary_when_nothing_is_configured(settings):
    settings.FFMPEG_BINARY = ""
    assert Path(ffmpeg_binary()).is_file()


def test_it_refuses_a_shell_string():
    with pytest.raises(TypeError):
        run_ffmpeg("-i x.mp4 out.mp4")  # type: ignore[arg-type]


def test_a_failure_carries_ffmpegs_last_words(tmp_path):
    with pytest.raises(FFmpegError) as caught:
        run_ffmpeg(["-i", file_url(tmp_path / "missing.mp4"), "-f", "null", "-"], timeout=30)
    assert caught.value.returncode not in (0, None)
    assert "missing.mp4" in caught.value.stderr_tail
    assert caught.value.exit_code == 4


def test_a_run_past_its_timeout_is_killed():
    started = time.monotonic()
    with pytest.raises(FFmpegTimeoutError):
        # An endless source: only the timeout ends it.
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc", "-f", "null", "-"], timeout=0.5)
    assert time.monotonic() - started < 10


def test_it_makes_real_clips_that_probe_as_asked(tmp_path):
    for container, video_codec, audio_codec in (("mp4", "h264", "aac"),
                                                ("webm", "vp8", "vorbis")):
        output = tmp_path / f"clip.{container}"
        run_ffmpeg(build_test_video_args(output, container=container, duration=2,
                                         pattern="smptebars", hue_degrees=60), timeout=60)
        info = probe_media(output)
        assert info.codecs("video") == [video_codec]
        assert info.codecs("audio") == [audio_codec]
        assert info.duration is not None and 1.5 < info.duration < 2.6
        assert (info.streams[0].width, info.streams[0].height) == (320, 180)
    output = tmp_path / "tone.mp3"
    run_ffmpeg(build_tone_audio_args(output, duration=2), timeout=60)
    assert probe_media(output).codecs("audio") == ["mp3"]


def test_probing_a_non_media_file_fails(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 20)
    with pytest.raises(FFmpegError):
        probe_media(junk)
    with pytest.raises(FFmpegError):
        probe_media(tmp_path / "absent.mp4")
