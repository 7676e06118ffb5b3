"""Upgrades: `kolibri-like start` backs up the default database before it applies new migrations,
keeps the last few backups, and migrates nothing when the backup fails."""

from __future__ import annotations

import errno
import importlib.util
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kolibri_like.server import (PRE_UPGRADE_PREFIX, UpgradeBackupError, back_up_before_upgrade,
                                 prune_backups)
from tests.servers import ServerProcess

ON_SQLITE = not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def copy_sqlite(source: Path):
    """A backup that really copies a database (SQLite's backup API), for the naming and pruning
    tests below; the real one (operations.backup) is tested with a real server further down."""
    def backup(target: Path) -> Path:
        origin, copy = sqlite3.connect(source), sqlite3.connect(target)
        origin.backup(copy)
        origin.close()
        copy.close()
        return target
    return backup


def test_it_keeps_only_the_newest_backups(tmp_path: Path):
    backups = tmp_path / "backups"
    backups.mkdir()
    for day in range(1, 8):
        (backups / f"{PRE_UPGRADE_PREFIX}2026010{day}T000000Z").write_bytes(b"x")
    (backups / f"{PRE_UPGRADE_PREFIX}20260102T000000Z-dir").mkdir()
    (backups / f"{PRE_UPGRADE_PREFIX}20260101T000000Z-wal").write_bytes(b"x")
    (backups / f"{PRE_UPGRADE_PREFIX}20260107T000000Z-shm").write_bytes(b"x")
    (backups / "nightly-20260101.tar.gz").write_bytes(b"not ours")

    removed = prune_backups(backups, keep=3)

    assert sorted(path.name for path in backups.iterdir()) == [
        "nightly-20260101.tar.gz", f"{PRE_UPGRADE_PREFIX}20260105T000000Z",
        f"{PRE_UPGRADE_PREFIX}20260106T000000Z", f"{PRE_UPGRADE_PREFIX}20260107T000000Z",
        f"{PRE_UPGRADE_PREFIX}20260107T000000Z-shm"]
    assert len(removed) == 5


def test_a_backup_made_with_a_clock_gone_back_is_not_pruned(tmp_path: Path):
    database = tmp_path / "db.sqlite3"
    sqlite3.connect(database).execute("CREATE TABLE learner (name TEXT)").connection.close()
    backups = tmp_path / "backups"
    backups.mkdir()
    for day in range(1, 4):
        (backups / f"{PRE_UPGRADE_PREFIX}2026010{day}T000000Z").write_bytes(b"x")

    # Offline boxes lose the date: a backup stamped 1970 sorts first but is the newest.
    written = back_up_before_upgrade(backups, keep=2, backup=copy_sqlite(database),
                                     now=datetime(1970, 1, 1, tzinfo=timezone.utc))

    assert written == backups / f"{PRE_UPGRADE_PREFIX}19700101T000000Z"
    assert sqlite3.connect(written).execute("SELECT name FROM sqlite_master").fetchall() == [
        ("learner",)]
    assert written.exists() and (backups / f"{PRE_UPGRADE_PREFIX}20260103T000000Z").exists()


def test_two_upgrades_in_one_second_keep_both_backups(tmp_path: Path):
    database = tmp_path / "db.sqlite3"
    sqlite3.connect(database).close()
    moment = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
    first = back_up_before_upgrade(tmp_path / "backups", backup=copy_sqlite(database), now=moment)
    second = back_up_before_upgrade(tmp_path / "backups", backup=copy_sqlite(database), now=moment)
    assert first != second and first.exists() and second.exists()


def test_a_failed_backup_raises_with_the_disk_full_code_and_removes_nothing(tmp_path: Path):
    backups = tmp_path / "backups"
    backups.mkdir()
    for day in range(1, 4):
        (backups / f"{PRE_UPGRADE_PREFIX}2026010{day}T000000Z").write_bytes(b"x")

    def disk_full(target: Path) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(UpgradeBackupError) as raised:
        back_up_before_upgrade(backups, keep=1, backup=disk_full)
    assert raised.value.exit_code == 5
    assert "Nothing was migrated" in str(raised.value)
    assert len(list(backups.iterdir())) == 3


def pre_upgrade_backups(home: Path) -> list[Path]:
    return [path for path in (home / "backups").glob(f"{PRE_UPGRADE_PREFIX}*")
            if not path.name.endswith(("-wal", "-shm", "-journal"))]


def upgraded_home(server: ServerProcess) -> None:
    """A home as an older version left it: migrated, then one migration that the new version
    brings is not applied yet (sessions rolled back to zero stands for it)."""
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    server.run_command("migrate", "sessions", "zero", "--noinput")


def sessions_applied(server: ServerProcess) -> bool:
    shown = server.run_command("showmigrations", "sessions").stdout
    return "[X] 0001_initial" in shown


@pytest.mark.server
def test_a_failed_backup_stops_start_before_migrating(tmp_path: Path):
    server = ServerProcess(tmp_path / "home")
    try:
        upgraded_home(server)
        (server.home / "backups").write_text("a file where the backups folder should be")

        result = server.run_command("start", "--port", str(server.port), check=False,
                                    timeout=120)

        assert result.returncode == 6, result.stdout + result.stderr
        assert "Not upgrading" in result.stderr and "Traceback" not in result.stderr
        assert not sessions_applied(server)
    finally:
        server.drop_database()


@pytest.mark.server
def test_an_upgrade_backs_up_the_database_then_migrates(tmp_path: Path):
    if importlib.util.find_spec("operations.backup") is None:
        pytest.skip("operations/backup.py (backup_default_database) has not landed yet")
    server = ServerProcess(tmp_path / "home")
    try:
        upgraded_home(server)

        server.start()
        server.stop()
        output = server.output()
        assert "Upgrading: the default database was backed up to" in output, output
        backups = pre_upgrade_backups(server.home)
        assert len(backups) == 1
        assert sessions_applied(server)
        if ON_SQLITE:
            # The backup holds the database as it was before migrating: no sessions table yet.
            copy = sqlite3.connect(f"file:{backups[0]}?immutable=1", uri=True)
            tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
            copy.close()
            assert "django_migrations" in tables and "django_session" not in tables

        # Nothing to migrate on the next start: no second backup.
        server.start()
        server.stop()
        assert len(pre_upgrade_backups(server.home)) == 1
    finally:
        server.stop()
        server.drop_database()


@pytest.mark.server
def test_a_first_start_makes_no_backup(tmp_path: Path):
    with ServerProcess(tmp_path / "home") as server:
        assert "Upgrading" not in server.output()
    assert not pre_upgrade_backups(server.home)
