"""The one adapter for the ffmpeg binary: find it, run it safely, build its argument lists.

Why one module: every place that runs ffmpeg (demo content, authoring's background encodes of
uploads) gets the same guarantees for free: an argument list and never a shell, no stdin (a
stray prompt would hang a worker forever), resource limits and a wall-clock timeout that kills
its whole process group (media.launch), and a named error carrying ffmpeg's last stderr lines
instead of a bare exit status.

The `build_*_args()` functions are pure: tests check them without running ffmpeg. Paths go in
as `file:` URLs of absolute paths, so a file named `-x.mp4` or `http:foo.mp4` is never read as
an option or a protocol.

    args = build_test_video_args(Path("clip.mp4"), container="mp4", duration=3)
    run_ffmpeg(args, timeout=60)
    info = probe_media(Path("clip.mp4"))
    info.duration, [stream.codec for stream in info.streams]
    run_ffmpeg_with_progress(build_encode_args(upload, Path("out.webm"), target="webm"),
                             duration=info.duration, on_progress=print, timeout=600)

The binary is `settings.FFMPEG_BINARY` if set (a missing path is an error, not a silent
fallback), else `ffmpeg` on PATH, else the static build that imageio-ffmpeg ships (libx264,
aac, libvpx, libvorbis, libopus, libmp3lame, png; the testsrc and sine sources; no drawtext).
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, Sequence

from django.conf import settings

from media.launch import LimitedProcess, Outcome, configured_limits, limit_breach

STDERR_TAIL_LINES = 12
DEFAULT_TIMEOUT = 120.0
# Formats of `build_test_video_args`: what the browser's <video> element gets as sources.
VideoContainer = Literal["mp4", "webm"]
# The lavfi video sources of every ffmpeg build we run (imageio-ffmpeg's included).
TEST_PATTERNS = ("testsrc", "testsrc2", "smptebars", "rgbtestsrc", "smptehdbars", "yuvtestsrc")
# ffmpeg's own flags that make the same input give the same bytes on every run.
_BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
             "-map_metadata", "-1"]
# Input options for files someone uploaded: read local files only (a playlist inside a
# "video" must not make the server fetch URLs) with the demuxers of video containers only
# (not HLS or concat, which open further files the playlist names; not tty, which would render
# any text file, /etc/passwd included, as video frames).
UNTRUSTED_INPUT_OPTIONS = ["-protocol_whitelist", "file", "-format_whitelist",
                           "mov,mp4,matroska,webm,ogg,avi,mpeg,mpegts,flv,asf"]


class FFmpegError(Exception):
    """ffmpeg exited with an error; `stderr_tail` holds its last lines, which say why."""

    # A failing encode nearly always means bad input media (INTERFACE.md: 4).
    exit_code = 4

    def __init__(self, message: str, *, returncode: int | None = None,
                 stderr_tail: str = "") -> None:
        detail = f": {stderr_tail}" if stderr_tail else ""
        super().__init__(f"{message}{detail}")
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class FFmpegTimeoutError(FFmpegError):
    """ffmpeg ran longer than its wall-clock limit and was killed."""


class FFmpegResourceError(FFmpegError):
    """A resource limit (memory, processor time, file size; media.launch) stopped ffmpeg."""


class FFmpegNotFoundError(FFmpegError):
    """No usable ffmpeg binary: a set-up problem the message tells how to fix (bad usage, 2)."""

    exit_code = 2


@dataclass(frozen=True)
class StreamInfo:
    kind: str  # "video", "audio", "subtitle" or "data"
    codec: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class MediaInfo:
    container: str
    duration: float | None
    streams: list[StreamInfo] = field(default_factory=list)

    def codecs(self, kind: str) -> list[str]:
        return [stream.codec for stream in self.streams if stream.kind == kind]


def ffmpeg_binary() -> str:
    """The ffmpeg to run; see the module docstring for the order it is looked for in."""
    configured = str(getattr(settings, "FFMPEG_BINARY", "") or "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file() or not os.access(path, os.X_OK):
            raise FFmpegNotFoundError(
                f"FFMPEG_BINARY is set to {configured}, which is not an executable file; fix "
                f"the setting or unset it to use the ffmpeg that imageio-ffmpeg installs")
        return str(path)
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as error:
        raise FFmpegNotFoundError(
            f"no ffmpeg found: not on PATH and imageio-ffmpeg has none ({error}); install "
            f"ffmpeg or set FFMPEG_BINARY") from None


def file_url(path: Path | str) -> str:
    """An argument ffmpeg reads as exactly this file (never an option or another protocol)."""
    return "file:" + str(Path(path).absolute())


def run_ffmpeg(args: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Run ffmpeg with `args` (after `-nostdin -hide_banner`); return its stderr text.

    Raises FFmpegTimeoutError after `timeout` seconds of wall-clock time (its process group is
    killed), FFmpegResourceError when a resource limit stopped it, FFmpegError on a non-zero
    exit, FFmpegNotFoundError if there is no binary.
    """
    with tempfile.TemporaryFile() as stderr_file:
        process = _start(args, stdout=subprocess.DEVNULL, stderr=stderr_file)
        try:
            outcome = process.wait(time.monotonic() + timeout)
        finally:
            if process.outcome is None:
                process.kill()  # the timeout, Ctrl-C or a cancel: never leave ffmpeg behind
        _raise_for(process, outcome, stderr_file, timeout)
        stderr_file.seek(0)
        return stderr_file.read().decode("utf-8", errors="replace")


def _start(args: Sequence[str], *, stdout: int | IO[bytes],
           stderr: IO[bytes]) -> LimitedProcess:
    if isinstance(args, (str, bytes)) or not all(isinstance(arg, str) for arg in args):
        raise TypeError("ffmpeg arguments must be a list of strings, never one shell string")
    command = [ffmpeg_binary(), "-nostdin", "-hide_banner", *args]
    try:
        return LimitedProcess(command, limits=configured_limits(), stdout=stdout, stderr=stderr)
    except OSError as error:
        raise FFmpegNotFoundError(f"cannot run ffmpeg at {command[0]}: {error}") from None


def _raise_for(process: LimitedProcess, outcome: Outcome | None, stderr_file: IO[bytes],
               timeout: float) -> None:
    """The error for how ffmpeg ended, if it did not succeed (stderr is a temp file: a pipe
    nobody reads would block ffmpeg once full)."""
    if outcome is None:
        raise FFmpegTimeoutError(f"ffmpeg ran longer than {timeout:g} s and was stopped",
                                 stderr_tail=_file_tail(stderr_file))
    if outcome.returncode == 0:
        return
    tail = _file_tail(stderr_file)
    breach = limit_breach(outcome, process.limits, _file_text(stderr_file))
    if breach:
        raise FFmpegResourceError(f"ffmpeg was stopped: {breach}", returncode=outcome.returncode,
                                  stderr_tail=tail)
    raise FFmpegError(f"ffmpeg failed with exit status {outcome.returncode}",
                      returncode=outcome.returncode, stderr_tail=tail)


def _tail(stderr: bytes | str | None) -> str:
    if stderr is None:
        return ""
    text = stderr.decode("utf-8", errors="replace") if isinstance(stderr, bytes) else stderr
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-STDERR_TAIL_LINES:])


def build_test_video_args(output: Path, *, container: VideoContainer, duration: float = 3.0,
                          width: int = 320, height: int = 180, rate: int = 24,
                          pattern: str = "testsrc", frequency: int = 440,
                          hue_degrees: int = 0) -> list[str]:
    """A synthetic clip (a lavfi test pattern with a sine tone), encoded for browsers.

    mp4: H.264 + AAC, yuv420p (what every browser decodes), `+faststart` so playback starts
    before the whole file arrived. webm: VP8 + Vorbis, the open-format alternative source.
    """
    if pattern not in TEST_PATTERNS:
        raise ValueError(f"unknown test pattern {pattern!r}; one of {', '.join(TEST_PATTERNS)}")
    if width % 2 or height % 2 or width <= 0 or height <= 0:
        raise ValueError("yuv420p needs a positive, even width and height")
    if duration <= 0:
        raise ValueError("duration must be positive")
    args = [
        "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"{pattern}=size={width}x{height}:rate={rate}:duration={duration:g}",
        "-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=44100:duration={duration:g}",
        "-map", "0:v:0", "-map", "1:a:0",
    ]
    if hue_degrees % 360:
        args += ["-vf", f"hue=h={hue_degrees % 360}"]
    args += ["-pix_fmt", "yuv420p", "-ac", "1", "-shortest", *_BITEXACT]
    if container == "mp4":
        args += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-crf", "28",
                 "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", "-f", "mp4"]
    elif container == "webm":
        args += ["-c:v", "libvpx", "-b:v", "250k", "-deadline", "good", "-cpu-used", "4",
                 "-c:a", "libvorbis", "-q:a", "2", "-f", "webm"]
    else:
        raise ValueError(f"unknown container {container!r}; mp4 or webm")
    return [*args, file_url(output)]


def build_tone_audio_args(output: Path, *, duration: float = 5.0, frequency: int = 440,
                          bitrate_kbps: int = 64) -> list[str]:
    """An mp3 of a sine tone (the audio preset takes mp3 only)."""
    if duration <= 0:
        raise ValueError("duration must be positive")
    return [
        "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=44100:duration={duration:g}",
        "-ac", "1", *_BITEXACT, "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k", "-f", "mp3",
        file_url(output),
    ]


def build_probe_args(source: Path, *, untrusted: bool = False) -> list[str]:
    """Read the container and stream headers: copy every stream to the null muxer.

    Nothing is decoded, so it is quick on long files; a file ffmpeg cannot open fails here.
    (The imageio-ffmpeg build has no ffprobe, so ffmpeg's own report is parsed.) `untrusted`
    adds UNTRUSTED_INPUT_OPTIONS (an upload: local files and video containers only).
    """
    restrictions = UNTRUSTED_INPUT_OPTIONS if untrusted else []
    return ["-loglevel", "info", *restrictions, "-i", file_url(source), "-map", "0",
            "-c", "copy", "-f", "null", "-"]


_INPUT_RE = re.compile(r"^Input #0, (?P<container>.+?), from ")
_DURATION_RE = re.compile(r"Duration: (?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?)")
_STREAM_RE = re.compile(
    r"Stream #0:\d+\S*: (?P<kind>Video|Audio|Subtitle|Data): (?P<codec>[A-Za-z0-9_]+)"
    r"(?P<rest>.*)$")
_SIZE_RE = re.compile(r"\b(?P<width>\d{2,5})x(?P<height>\d{2,5})\b")


def parse_probe_output(stderr: str) -> MediaInfo:
    """Container, duration and streams of input #0 from ffmpeg's report (pure, for tests)."""
    container = ""
    duration: float | None = None
    streams: list[StreamInfo] = []
    in_input = False
    for raw_line in stderr.splitlines():
        line = raw_line.strip()
        input_match = _INPUT_RE.match(line)
        if input_match:
            container, in_input = input_match.group("container"), True
            continue
        if line.startswith(("Output #", "Stream mapping")):
            in_input = False
        if not in_input:
            continue
        duration_match = _DURATION_RE.search(line)
        if duration_match and duration is None:
            duration = (int(duration_match.group("h")) * 3600 + int(duration_match.group("m")) * 60
                        + float(duration_match.group("s")))
        stream_match = _STREAM_RE.search(line)
        if stream_match:
            size = _SIZE_RE.search(stream_match.group("rest"))
            streams.append(StreamInfo(
                kind=stream_match.group("kind").lower(), codec=stream_match.group("codec"),
                width=int(size.group("width")) if size and stream_match.group("kind") == "Video"
                else None,
                height=int(size.group("height")) if size and stream_match.group("kind") == "Video"
                else None))
    return MediaInfo(container=container, duration=duration, streams=streams)


def probe_media(source: Path, *, timeout: float = 60.0, untrusted: bool = False) -> MediaInfo:
    """What the file holds, as ffmpeg sees it; FFmpegError if ffmpeg cannot read it."""
    if not Path(source).is_file():
        raise FFmpegError(f"no such media file: {source}")
    info = parse_probe_output(run_ffmpeg(build_probe_args(source, untrusted=untrusted),
                                         timeout=timeout))
    if not info.streams:
        raise FFmpegError(f"ffmpeg found no audio or video streams in {source}")
    return info


# What an uploaded video is encoded to, in the order the player offers them (INTERFACE.md).
EncodeTarget = Literal["mp4", "webm", "ogv"]
ENCODE_TARGETS: tuple[EncodeTarget, ...] = ("mp4", "webm", "ogv")
MAX_ENCODE_HEIGHT = 720
THUMBNAIL_WIDTH = 320
# Per target: (video options, audio options). Chosen for a 2-core box: x264 veryfast; VP8 in
# realtime mode at its fastest setting (VP9 is several times slower for the same size); Theora
# and Vorbis by quality. yuv420p everywhere: the only pixel format every decoder takes.
_ENCODE_OPTIONS: dict[str, tuple[dict[str, object], dict[str, object]]] = {
    "mp4": ({"c:v": "libx264", "preset": "veryfast", "crf": 26, "profile:v": "main",
             "pix_fmt": "yuv420p", "movflags": "+faststart", "f": "mp4"},
            {"c:a": "aac", "b:a": "96k"}),
    "webm": ({"c:v": "libvpx", "deadline": "realtime", "cpu-used": 8, "b:v": "1M", "crf": 10,
              "pix_fmt": "yuv420p", "f": "webm"},
             {"c:a": "libvorbis", "q:a": 4}),
    "ogv": ({"c:v": "libtheora", "q:v": 6, "pix_fmt": "yuv420p", "f": "ogg"},
            {"c:a": "libvorbis", "q:a": 4}),
}
_BITEXACT_OPTIONS = {"fflags": "+bitexact", "flags:v": "+bitexact", "flags:a": "+bitexact",
                     "map_metadata": -1}
# The same restrictions as ffmpeg-python input options ({"protocol_whitelist": "file", ...}).
_UNTRUSTED_INPUT = {UNTRUSTED_INPUT_OPTIONS[index].lstrip("-"): UNTRUSTED_INPUT_OPTIONS[index + 1]
                    for index in range(0, len(UNTRUSTED_INPUT_OPTIONS), 2)}


def build_encode_args(source: Path, output: Path, *, target: EncodeTarget,
                      has_audio: bool = True) -> list[str]:
    """Encode an uploaded video for browsers: at most 720 lines high, aspect kept, even sizes.

    The first video stream and, if the probe found one (`has_audio`), the first audio stream
    are mapped: mapping a missing stream is an error. Bit-exact flags make a re-run after a
    crash produce the same bytes, so the store dedupes them. Progress goes to stdout
    (`-progress pipe:1`) for run_ffmpeg_with_progress.
    """
    import ffmpeg  # ffmpeg-python builds the argument list; our runner runs it

    if target not in _ENCODE_OPTIONS:
        raise ValueError(f"unknown encode target {target!r}; one of {', '.join(ENCODE_TARGETS)}")
    video_options, audio_options = _ENCODE_OPTIONS[target]
    source_input = ffmpeg.input(file_url(source), **_UNTRUSTED_INPUT)
    # -2: the width that keeps the aspect, rounded to even; the height rounded down to even.
    streams = [source_input["v:0"].filter(
        "scale", w=-2, h=f"trunc(min({MAX_ENCODE_HEIGHT},ih)/2)*2")]
    options = {**video_options, **_BITEXACT_OPTIONS}
    if has_audio:
        streams.append(source_input["a:0"])
        options.update(audio_options)
    command = ffmpeg.output(*streams, file_url(output), **options)
    # Global options first (ffmpeg-python would append them after the output).
    return ["-loglevel", "error", "-y", "-progress", "pipe:1", "-nostats",
            *(str(arg) for arg in command.get_args())]


def build_thumbnail_args(source: Path, output: Path, *, at_seconds: float) -> list[str]:
    """One PNG frame, THUMBNAIL_WIDTH wide, taken at `at_seconds` (a fast seek before -i)."""
    import ffmpeg

    if at_seconds < 0:
        raise ValueError("at_seconds must be >= 0")
    source_input = ffmpeg.input(file_url(source), ss=f"{at_seconds:.3f}", **_UNTRUSTED_INPUT)
    frame = source_input["v:0"].filter("scale", w=THUMBNAIL_WIDTH, h=-2)
    command = ffmpeg.output(frame, file_url(output), **{"frames:v": 1, "update": 1,
                                                       "c:v": "png", "f": "image2"})
    return ["-loglevel", "error", "-y", *(str(arg) for arg in command.get_args())]


_PROGRESS_TIME_RE = re.compile(rb"out_time_(?:us|ms)=(\d+)")
PROGRESS_POLL_SECONDS = 1.0
STDERR_TAIL_BYTES = 64 * 1024


def run_ffmpeg_with_progress(args: Sequence[str], *, duration: float | None,
                             on_progress: Callable[[float], None],
                             timeout: float = DEFAULT_TIMEOUT) -> None:
    """Run ffmpeg like run_ffmpeg, calling `on_progress(seconds_done)` as its output grows.

    1. stderr goes to a temp file (never a pipe nobody reads: a full pipe would block ffmpeg);
    2. stdout carries `-progress` blocks; `out_time_us=` (and `out_time_ms=`, which ffmpeg also
       writes in microseconds) give the position, passed on when it grows, capped at `duration`;
    3. reads wait in `select` at most PROGRESS_POLL_SECONDS, so the wall-clock deadline is
       checked without a busy loop;
    4. past the deadline, or if `on_progress` raises (a cancelled job), ffmpeg's process group
       is killed and reaped, then the error goes up: FFmpegTimeoutError, or whatever
       on_progress raised.
    """
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as stderr_file:
        process = _start(args, stdout=subprocess.PIPE, stderr=stderr_file)
        stdout = process.popen.stdout
        assert stdout is not None
        try:
            _follow_progress(stdout, deadline, duration, on_progress)
            outcome = process.wait(deadline)
        finally:
            if process.outcome is None:
                process.kill()
            stdout.close()
        _raise_for(process, outcome, stderr_file, timeout)


def _follow_progress(stdout: IO[bytes], deadline: float, duration: float | None,
                     on_progress: Callable[[float], None]) -> None:
    """Read progress lines until ffmpeg closes stdout or the deadline passes (then return:
    the caller's wait() times out and kills)."""
    descriptor = stdout.fileno()
    pending = b""
    reported = -1.0
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0:
            if not selector.select(timeout=min(remaining, PROGRESS_POLL_SECONDS)):
                continue
            chunk = os.read(descriptor, 65536)
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                match = _PROGRESS_TIME_RE.fullmatch(line.strip())
                if match is None:
                    continue
                seconds = int(match.group(1)) / 1_000_000
                if duration:
                    seconds = min(seconds, duration)
                if seconds > reported:
                    reported = seconds
                    on_progress(seconds)


def _file_text(handle: IO[bytes]) -> str:
    handle.seek(0, os.SEEK_END)
    handle.seek(max(0, handle.tell() - STDERR_TAIL_BYTES))
    return handle.read().decode("utf-8", errors="replace")


def _file_tail(handle: IO[bytes]) -> str:
    return _tail(_file_text(handle))
