"""Homes for crash tests: a server home made once, copied per test, and run command by command
in real processes, some of them told to die at a named crash point (kolibri_like.crashpoints).

    blank = CrashHome(tmp / "blank").migrated()
    home = blank.copy_to(tmp / "home")
    home.killed_at("import.database_copied", "importchannel", "disk", channel_id, drive)
    home.recover_and_check()
    home.rows("SELECT number FROM channels_channelversion")
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from kolibri_like.crashpoints import CRASH_POINTS, ENVIRONMENT_VARIABLE
from tests.servers import KOLIBRI_LIKE, ServerProcess, _postgres_admin

KILLED = -signal.SIGKILL
COMMAND_TIMEOUT = 180


class CrashHome(ServerProcess):
    """A server home (ServerProcess's environment) whose commands run as separate processes."""

    def migrated(self) -> CrashHome:
        self.home.mkdir(parents=True, exist_ok=True)
        self.run("migrate", "--noinput", "-v", "0")
        return self

    def copy_to(self, target: Path) -> CrashHome:
        """A new home holding this one's database and content (on PostgreSQL, where each
        home has a database of its own, a copy of this one's made with TEMPLATE)."""
        shutil.copytree(self.home, target, symlinks=True)
        copy = CrashHome(target)
        if self._is_postgres():
            assert self._database_name and copy._database_name
            _postgres_admin(os.environ["DATABASE_URL"],
                            f'DROP DATABASE "{copy._database_name}"')
            _postgres_admin(os.environ["DATABASE_URL"],
                            f'CREATE DATABASE "{copy._database_name}" '
                            f'TEMPLATE "{self._database_name}"')
        return copy

    def _is_postgres(self) -> bool:
        return self.env.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

    def run(self, *arguments: str, crash_at: str | None = None, check: bool = True,
            ) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if crash_at is not None:
            env[ENVIRONMENT_VARIABLE] = crash_at
        result = subprocess.run([KOLIBRI_LIKE, *arguments], env=env, capture_output=True,
                                text=True, timeout=COMMAND_TIMEOUT)
        if check and result.returncode != 0:
            raise AssertionError(f"kolibri-like {' '.join(arguments)} exited "
                                 f"{result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def killed_at(self, point: str, *arguments: str) -> None:
        """Run the command told to die at `point` (`name` or `name:N`); it must die there."""
        assert point.partition(":")[0] in CRASH_POINTS, point
        result = self.run(*arguments, crash_at=point, check=False)
        assert result.returncode == KILLED, (
            f"kolibri-like {' '.join(arguments)} with {point} exited {result.returncode}, "
            f"not by SIGKILL:\n{result.stdout}\n{result.stderr}")

    def shell(self, code: str, *, crash_at: str | None = None) -> Any:
        """Run Python in `kolibri-like shell`; its last line of output, read as JSON."""
        result = self.run("shell", "-c", code, crash_at=crash_at)
        return json.loads(result.stdout.strip().splitlines()[-1])

    def recover_and_check(self) -> str:
        """Start-up recovery, then the invariant checker, which must find nothing."""
        recovered = self.run("recover")
        checked = self.run("checkinvariants", check=False)
        assert checked.returncode == 0, (
            f"checkinvariants after recovery exited {checked.returncode}:\n{checked.stdout}\n"
            f"{checked.stderr}\nrecovery said:\n{recovered.stdout}\n{recovered.stderr}")
        return recovered.stdout

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        """Read the home's default database directly (a shell would cost seconds a look)."""
        if self._is_postgres():
            import psycopg

            with psycopg.connect(self.env["DATABASE_URL"]) as connection:
                return [tuple(row) for row in connection.execute(query)]
        with sqlite3.connect(f"file:{self.home / 'db.sqlite3'}?mode=ro", uri=True,
                             timeout=10) as connection:
            return list(connection.execute(query))

    def served_version(self, channel_id: str) -> int:
        """The version number inside the channel's served file (what readers get)."""
        path = self.content_dir / "databases" / f"{channel_id}.sqlite3"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            (version,), = connection.execute("SELECT version FROM content_channelmetadata")
        return int(version)

    def stored_path(self, checksum: str, extension: str) -> Path:
        return (self.content_dir / "storage" / checksum[0] / checksum[1]
                / f"{checksum}.{extension}")
