"""Resource limits and process groups of the external tools: tiny Python children through the
same launcher as ffmpeg and LibreOffice, then real ffmpeg runs that go over a limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from media.ffmpeg import FFmpegError, FFmpegResourceError, file_url, run_ffmpeg
from media.launch import LimitedProcess, ResourceLimits, limit_breach, limited_command

MIB = 1024**2


def run_python(code: str, limits: ResourceLimits, wait: float = 30.0,
               ) -> tuple[LimitedProcess, str]:
    process = LimitedProcess([sys.executable, "-c", code], limits=limits,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    outcome = process.wait(time.monotonic() + wait)
    if outcome is None:
        process.kill()
    assert process.popen.stdout is not None
    output = process.popen.stdout.read().decode()
    process.popen.stdout.close()
    assert outcome is not None, f"the child was not stopped by its limits: {output}"
    return process, output


def test_the_limits_are_set_before_the_program_starts():
    limits = ResourceLimits(memory_bytes=300 * MIB, cpu_seconds=7, file_size_bytes=5 * MIB)
    _, output = run_python(
        "import resource as r; print([r.getrlimit(k) for k in "
        "(r.RLIMIT_AS, r.RLIMIT_CPU, r.RLIMIT_FSIZE)])", limits)
    assert output.strip() == str([(300 * MIB, 300 * MIB), (7, 9), (5 * MIB, 5 * MIB)])


def test_a_child_over_its_memory_limit_fails_and_the_reason_names_the_setting():
    limits = ResourceLimits(memory_bytes=256 * MIB)
    process, output = run_python("block = bytearray(512 * 1024 * 1024); print('allocated')",
                                 limits)
    assert process.outcome is not None and process.outcome.returncode != 0
    assert "allocated" not in output
    reason = limit_breach(process.outcome, limits, output)
    assert reason is not None and "256 MiB of memory" in reason
    assert "MEDIA_MEMORY_LIMIT" in reason


def test_a_child_over_its_processor_time_is_killed_long_before_the_wall_clock_limit():
    limits = ResourceLimits(cpu_seconds=1)
    started = time.monotonic()
    process, output = run_python("while True: pass", limits, wait=30)
    assert time.monotonic() - started < 15
    assert process.outcome is not None
    assert process.outcome.returncode in (-signal.SIGXCPU, -signal.SIGKILL)
    reason = limit_breach(process.outcome, limits, output)
    assert reason is not None and "MEDIA_CPU_LIMIT_SECONDS" in reason


def test_a_child_writing_past_the_file_size_limit_is_stopped(tmp_path):
    limits = ResourceLimits(file_size_bytes=1 * MIB)
    target = tmp_path / "big.bin"
    process, output = run_python(
        f"open({str(target)!r}, 'wb').write(bytes(3 * 1024 * 1024))", limits)
    assert process.outcome is not None and process.outcome.returncode != 0
    assert target.stat().st_size <= 1 * MIB
    reason = limit_breach(process.outcome, limits, output)
    assert reason is not None and "MEDIA_FILE_SIZE_LIMIT" in reason


def test_killing_stops_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    code = ("import subprocess, sys, time; "
            "child = subprocess.Popen(['sleep', '300']); "
            f"open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(300)")
    process = LimitedProcess([sys.executable, "-c", code], limits=ResourceLimits(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    assert process.wait(time.monotonic() + 0.2) is None
    process.kill()
    for _ in range(100):  # the grandchild is reparented and reaped by init: give it a moment
        if not _alive(grandchild):
            break
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_program_runs_by_absolute_path_behind_the_limit_step():
    command = limited_command(["sleep", "1"], ResourceLimits(memory_bytes=10))
    assert command[:3] == [sys.executable, "-I", "-S"]
    assert command[4:9] == ["10", "0", "0", str(os.getpid()), "--"]
    assert os.path.isabs(command[9]) and command[9].endswith("sleep")


@pytest.fixture(scope="module")
def huge_frame(tmp_path_factory) -> Path:
    """One 16000x16000 PNG frame in Matroska: 3 MB on disk, 768 MB once decoded."""
    path = tmp_path_factory.mktemp("huge") / "huge.mkv"
    run_ffmpeg(["-v", "error", "-f", "lavfi", "-i", "color=c=blue:size=16000x16000:rate=1",
                "-frames:v", "1", "-c:v", "png", "-compression_level", "1", "-pred", "none",
                "-pix_fmt", "rgb24", file_url(path)], timeout=120)
    return path


def test_real_ffmpeg_over_its_memory_limit_ends_with_the_reason(settings, huge_frame):
    settings.MEDIA_MEMORY_LIMIT = 1024 * MIB
    with pytest.raises(FFmpegResourceError, match="MEDIA_MEMORY_LIMIT") as raised:
        run_ffmpeg(["-i", file_url(huge_frame), "-f", "null", "-"], timeout=60)
    assert "1 GiB of memory" in str(raised.value)


def test_real_ffmpeg_over_its_processor_time_is_stopped(settings):
    settings.MEDIA_CPU_LIMIT_SECONDS = 1
    started = time.monotonic()
    # An endless source and an encoder: only a limit ends it.
    with pytest.raises(FFmpegResourceError, match="processor time"):
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc=size=1280x720", "-c:v", "libx264",
                    "-f", "null", "-"], timeout=60)
    assert time.monotonic() - started < 30


def test_real_ffmpeg_writing_past_the_file_size_limit_is_stopped(settings, tmp_path):
    settings.MEDIA_FILE_SIZE_LIMIT = 1 * MIB
    output = tmp_path / "raw.yuv"
    with pytest.raises(FFmpegError, match="MEDIA_FILE_SIZE_LIMIT"):
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc=size=640x480:duration=5", "-f", "rawvideo",
                    file_url(output)], timeout=60)
    assert output.stat().st_size <= 1 * MIB


def test_the_tool_dies_with_the_process_that_started_it(tmp_path):
    """A worker killed outright (SIGKILL: no `finally` runs) leaves no tool behind."""
    pid_file = tmp_path / "tool.pid"
    worker = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time; from media.launch import LimitedProcess, ResourceLimits; "
        "tool = LimitedProcess(['sleep', '300'], limits=ResourceLimits(), "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        f"open({str(pid_file)!r}, 'w').write(str(tool.pid)); time.sleep(300)")],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "kolibri_like.test_settings"})
    try:
        for _ in range(200):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.05)
        tool = int(pid_file.read_text())
        for _ in range(100):  # until the launch step has become `sleep`
            if Path(f"/proc/{tool}/comm").read_text().strip() == "sleep":
                break
            time.sleep(0.05)
        assert _alive(tool)
    finally:
        worker.kill()
        worker.wait()
    for _ in range(100):
        if not _alive(tool):
            break
        time.sleep(0.05)
    assert not _alive(tool)
