"""Server homes whose commands run as real processes with an injected I/O fault
(tests/faults/inject/sitecustomize.py): the k-th write, read or fsync on a matching path
raises OSError, as a full disk, a failing disk or a pulled drive would.

    home = FaultHome.of(prepared_home, tmp_path / "home")
    failed = home.faulted("read:5:ENODEV:/drive/", "importcontent", "disk", channel_id, drive)
    assert failed.returncode == 6
    home.recover_and_check()
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.kolibri_like.crash_homes import CrashHome

INJECT_FOLDER = Path(__file__).resolve().parent / "inject"
FAULT_VARIABLE = "KOLIBRI_LIKE_TEST_FAULT"
LOG_VARIABLE = "KOLIBRI_LIKE_TEST_FAULT_LOG"
# Row 36 of the bad-input table: a pulled drive ends the command within this.
PULLED_DRIVE_SECONDS = 30


class FaultHome(CrashHome):
    """A CrashHome whose commands can run with a fault injected."""

    @classmethod
    def of(cls, home: CrashHome, target: Path) -> FaultHome:
        copy = home.copy_to(target)
        copy.__class__ = cls
        return copy  # type: ignore[return-value]

    @property
    def fault_log(self) -> Path:
        return self.home / "injected-faults.log"

    def fault_env(self, spec: str) -> dict[str, str]:
        """This home's environment with the fault `spec` injected."""
        self.fault_log.unlink(missing_ok=True)
        return {**self.env, FAULT_VARIABLE: spec, LOG_VARIABLE: str(self.fault_log),
                "PYTHONPATH": f"{INJECT_FOLDER}:{self.env.get('PYTHONPATH', '')}".rstrip(":")}

    def faulted(self, spec: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run the command with the fault; it must fail, the fault must have fired, and it must
        end within PULLED_DRIVE_SECONDS."""
        env, self.env = self.env, self.fault_env(spec)
        started = time.monotonic()
        try:
            result = self.run(*arguments, check=False)
        finally:
            self.env = env
        took = time.monotonic() - started
        assert self.injected(), (f"{spec} never fired in kolibri-like {' '.join(arguments)}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        assert result.returncode != 0, result.stdout
        assert took < PULLED_DRIVE_SECONDS, f"it took {took:.1f}s to give up"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def check(self) -> None:
        """`checkinvariants` must find nothing (channels, stored files, default database)."""
        checked = self.run("checkinvariants", check=False)
        assert checked.returncode == 0, f"{checked.stdout}\n{checked.stderr}"

    def injected(self) -> list[str]:
        """The failures injected so far (`<op> <count> <errno> <path>` each)."""
        return self.fault_log.read_text().splitlines() if self.fault_log.exists() else []

    def temp_leftovers(self) -> list[Path]:
        """What is left in the temp area (files and folders)."""
        temp = self.content_dir / "tmp"
        return sorted(temp.rglob("*")) if temp.is_dir() else []

    def stored(self) -> list[tuple[str, str, int]]:
        """(checksum, extension, size) of every registered stored file, each checked whole."""
        rows = self.rows("SELECT checksum, extension, size FROM storage_storedfile")
        for checksum, extension, size in rows:
            assert self.stored_path(checksum, extension).stat().st_size == size, checksum
        return sorted(rows)


def drive_files(drive: Path) -> dict[str, int]:
    """Every file on a drive (relative name -> size)."""
    return {str(path.relative_to(drive)): path.stat().st_size
            for path in sorted(drive.rglob("*")) if path.is_file()}


def manifest_claims_missing(drive: Path, channel_database: Path) -> list[str]:
    """Files of the nodes that the drive's manifest says it holds, but which are not on it
    (what a Kolibri reader of the drive would fail to find)."""
    manifest = drive / "KOLIBRI_DATA" / "content" / "manifest.json"
    if not manifest.exists():
        return []
    storage = drive / "KOLIBRI_DATA" / "content" / "storage"
    missing: list[str] = []
    with sqlite3.connect(f"file:{channel_database}?mode=ro", uri=True) as connection:
        for channel in json.loads(manifest.read_text())["channels"]:
            for root_id in channel["include_node_ids"]:
                for checksum, extension in connection.execute(
                        "SELECT DISTINCT f.local_file_id, f.extension FROM content_file f "
                        "JOIN content_contentnode n ON f.contentnode_id = n.id "
                        "JOIN content_contentnode r ON r.id = ? AND n.tree_id = r.tree_id "
                        "AND n.lft BETWEEN r.lft AND r.rght", (root_id,)):
                    name = f"{checksum}.{extension}"
                    if not (storage / checksum[0] / checksum[1] / name).is_file():
                        missing.append(name)
    return missing
