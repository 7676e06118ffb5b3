"""`backup_default_database`: what `start` calls before migrating an upgraded server."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from operations import database
from operations.backup import backup_default_database
from operations.database import DatabaseToolMissingError, database_vendor

ON_POSTGRES = database_vendor() == "postgresql"

pytestmark = pytest.mark.django_db


@pytest.fixture
def sqlite_default(tmp_path, monkeypatch):
    """A default database on a real SQLite file in WAL mode, with rows still in the WAL (the
    test database itself lives in memory)."""
    path = tmp_path / "db.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE learners (name TEXT)")
    connection.executemany("INSERT INTO learners VALUES (?)", [("amina",), ("bongani",)])
    monkeypatch.setattr(database, "database_vendor", lambda: "sqlite")
    monkeypatch.setattr(database, "sqlite_database_path", lambda: path)
    yield path
    connection.close()


def test_a_sqlite_copy_is_one_whole_file_with_the_rows_still_in_the_wal(sqlite_default,
                                                                       tmp_path):
    written = backup_default_database(tmp_path / "backups" / "pre-upgrade-20260101T000000Z")
    assert written.name == "pre-upgrade-20260101T000000Z.sqlite3"
    assert not list(written.parent.glob("*.partial"))
    assert not written.with_name(written.name + "-wal").exists()
    copy = sqlite3.connect(written)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert copy.execute("SELECT name FROM learners ORDER BY name").fetchall() == [
        ("amina",), ("bongani",)]


def test_a_target_with_a_suffix_is_written_as_named(sqlite_default, tmp_path):
    assert backup_default_database(tmp_path / "copy.db") == tmp_path / "copy.db"


def test_a_missing_database_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(database, "database_vendor", lambda: "sqlite")
    monkeypatch.setattr(database, "sqlite_database_path", lambda: tmp_path / "none.sqlite3")
    with pytest.raises(database.DatabaseCopyError, match="does not exist"):
        backup_default_database(tmp_path / "copy")
    assert not list(tmp_path.glob("*copy*"))


def test_without_pg_dump_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(database, "database_vendor", lambda: "postgresql")
    monkeypatch.setattr(database.shutil, "which", lambda name: None)
    with pytest.raises(DatabaseToolMissingError, match="postgresql-client") as caught:
        backup_default_database(tmp_path / "copy")
    assert caught.value.exit_code == 3


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL pass only")
def test_on_postgresql_it_is_a_pg_dump_archive(tmp_path):
    written = backup_default_database(tmp_path / "pre-upgrade")
    assert written.suffix == ".pgdump"
    listing = subprocess.run(["pg_restore", "--list", str(written)], capture_output=True,
                             text=True, check=True).stdout
    assert "TABLE public django_migrations" in listing
