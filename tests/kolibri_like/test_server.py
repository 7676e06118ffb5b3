"""`kolibri-like start` as an admin runs it: a real process, its consumer, its shutdown."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.servers import ServerProcess


def consumer_pids(server_pid: int) -> list[int]:
    """Child processes of the server running the task consumer (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = next((line.split()[1] for line in status.splitlines()
                       if line.startswith("PPid:")), "")
        if parent == str(server_pid) and "run_huey" in command:
            found.append(int(entry.name))
    return found


def wait_for(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return condition()


@pytest.mark.server
def test_a_dead_consumer_is_started_again_and_stopped_with_the_server(tmp_path: Path):
    with ServerProcess(tmp_path / "server", consumer=True) as server:
        assert "serving at http://127.0.0.1:" in server.output()
        first = wait_for(lambda: consumer_pids(server.process.pid), 30)
        assert len(first) == 1, server.output()
        os.kill(first[0], signal.SIGKILL)
        second = wait_for(lambda: [pid for pid in consumer_pids(server.process.pid)
                                   if pid != first[0]], 30)
        assert len(second) == 1, server.output()
        assert "starting it again" in server.output()
    assert wait_for(lambda: not Path(f"/proc/{second[0]}").exists()
                    or "Z" in Path(f"/proc/{second[0]}/stat").read_text().split()[2], 20)
