"""Real `kolibri-like` processes: Ctrl-C in the middle of a download (exit 130, then a re-run
resumes the file with a Range request) and a second import of the same channel (exit 7)."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import time
from pathlib import Path

import pytest

from channels.transfer.disk import export_channel_to_disk
from channels.transfer.selection import read_files, read_tree, select_nodes
from tests.channels.transfer.stub_peer import StubPeer
from tests.servers import KOLIBRI_LIKE, ServerProcess

pytestmark = [pytest.mark.django_db, pytest.mark.server]
WAIT_SECONDS = 30


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_ctrl_c_mid_download_exits_130_and_a_rerun_resumes(make_channel, content_dir, drive,
                                                           tmp_path):
    build = make_channel("maths")
    export_channel_to_disk(build.channel_id, drive)
    files, _invalid = read_files(build.path, select_nodes(read_tree(build.path),
                                                          build.channel_id))
    held = files[3]  # three files come before it
    channel = {"id": build.channel_id, "name": "Maths", "version": build.version}
    school = ServerProcess(tmp_path / "school")
    school.run_command("migrate", "--no-input", "-v", "0")
    school.run_command("importchannel", "disk", build.channel_id, str(drive))
    with StubPeer(channel, content_dir / "storage", hold=held.relpath) as peer:
        process = subprocess.Popen(
            [KOLIBRI_LIKE, "importcontent", "network", build.channel_id, peer.url],
            env=school.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            # A test run started in the background (`make test &`) ignores SIGINT and its
            # children inherit that: give this one Ctrl-C back, as a terminal would.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            part = school.content_dir / "tmp" / f"network-{held.name}.part"
            assert peer.held.wait(WAIT_SECONDS)
            _wait_for(lambda: part.is_file() and part.stat().st_size > 0, "the partial file")
            second = school.run_command("importcontent", "disk", build.channel_id, str(drive),
                                        check=False)
            assert second.returncode == 7 and "another import" in second.stderr
            process.send_signal(signal.SIGINT)
            _out, err = process.communicate(timeout=WAIT_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        assert process.returncode == 130, err
        assert "Interrupted; run the command again to resume" in err
        kept = part.stat().st_size
        assert 0 < kept < held.size
        listing = school.run_command("listchannels").stdout
        assert "Unfinished import" in listing and "interrupted" in listing
        rerun = school.run_command("importcontent", "network", build.channel_id, peer.url)
        assert "Imported 3 file(s)" in rerun.stdout and "3 already here" in rerun.stdout
        assert (f"/content/storage/{held.relpath}", f"bytes={kept}-", 206) in peer.requests
    stored = school.content_dir / "storage" / held.relpath
    assert hashlib.md5(stored.read_bytes()).hexdigest() == held.checksum
    assert not list((school.content_dir / "tmp").iterdir())
    assert "Unfinished import" not in school.run_command("listchannels").stdout
    assert len([path for path in Path(school.content_dir / "storage").rglob("*")
                if path.is_file()]) == 6
