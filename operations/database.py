"""The default database in backups: a consistent copy while the server runs, and its restore.

SQLite: SQLite's online backup API copies the whole file in one step inside one read
transaction; in WAL mode writers go on meanwhile and the copy is the state at its start. The
copy is switched to the rollback journal, so it is one self-contained file.
PostgreSQL: `pg_dump --format=custom` (it must be on PATH: `apt install postgresql-client`).
For a whole backup, `open_snapshot()` also exports a REPEATABLE READ snapshot, so the dump and
the file lists the backup reads from the database see the very same state.

    written = backup_default_database(Path("/srv/backups/before-upgrade"))   # adds .sqlite3
    with open_snapshot(work_dir) as snapshot:
        snapshot.path, snapshot.rows("SELECT id FROM channels_channel")
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from django.conf import settings
from django.db import connections

DUMP_TIMEOUT_SECONDS = 6 * 60 * 60


class DatabaseToolMissingError(Exception):
    """pg_dump, pg_restore or psql is not installed (exit 3: not found)."""

    exit_code = 3


class DatabaseCopyError(Exception):
    """The copy or the restore of the default database failed (exit 6)."""

    exit_code = 6


class DatabaseUnreachableError(Exception):
    """The default database does not answer (exit 6, an input/output error)."""

    exit_code = 6


def ensure_database_reachable() -> None:
    from django.db import DatabaseError

    try:
        connections["default"].ensure_connection()
    except DatabaseError as error:
        raise DatabaseUnreachableError(
            f"cannot connect to the default database ({error}); check DATABASE_URL "
            "(`kolibri-like settings`), and that the database exists and its server runs"
        ) from None


def database_vendor() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise DatabaseCopyError(f"backups support SQLite and PostgreSQL, not {engine}")


def sqlite_database_path() -> Path:
    return Path(str(settings.DATABASES["default"]["NAME"]))


def backup_default_database(target: Path) -> Path:
    """Write a consistent copy of the default database to `target` while the server runs.

    Without a suffix, `.sqlite3` (SQLite) or `.pgdump` (PostgreSQL, pg_dump's custom format)
    is added. Written beside the target under a temporary name, synced, then renamed: a crash
    never leaves a half copy under the final name. Returns the path written.
    """
    vendor = database_vendor()
    target = Path(target)
    if not target.suffix:
        target = target.with_name(target.name + (".sqlite3" if vendor == "sqlite" else ".pgdump"))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        if vendor == "sqlite":
            copy_sqlite_database(sqlite_database_path(), partial)
        else:
            dump_postgresql(partial)
        _fsync_file(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def copy_sqlite_database(source: Path, target: Path) -> None:
    if not source.is_file():
        raise DatabaseCopyError(f"the default database {source} does not exist")
    reader = sqlite3.connect(source, timeout=30)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)  # pages=-1: the whole database in one step, one read transaction
        writer.execute("PRAGMA journal_mode=DELETE")
        if writer.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise DatabaseCopyError(f"the copy of {source} fails SQLite's quick_check")
    except sqlite3.Error as error:
        raise DatabaseCopyError(f"copying {source} failed: {error}") from None
    finally:
        writer.close()
        reader.close()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DatabaseToolMissingError(
            f"{name} is not on PATH; the default database is on PostgreSQL, so install the "
            f"PostgreSQL client tools (`apt install postgresql-client`) and try again")
    return found


def _postgres_environment() -> dict[str, str]:
    database = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                          ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):
        if database.get(key):
            env[variable] = str(database[key])
    return env


def dump_postgresql(target: Path, *, snapshot_id: str | None = None) -> None:
    arguments = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                 f"--file={target}"]
    if snapshot_id:
        arguments.append(f"--snapshot={snapshot_id}")
    _run_tool(arguments, "pg_dump")


def _run_tool(arguments: list[str], name: str) -> None:
    try:
        result = subprocess.run(arguments, env=_postgres_environment(), capture_output=True,
                                text=True, timeout=DUMP_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise DatabaseCopyError(f"{name} did not finish within {DUMP_TIMEOUT_SECONDS} s") from None
    if result.returncode != 0:
        raise DatabaseCopyError(f"{name} failed: {result.stderr.strip()[-2000:]}")


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


@dataclass
class Snapshot:
    """A copy of the default database (`path`) and a way to read rows of that same state."""

    path: Path
    rows: Callable[[str], list[tuple[Any, ...]]]


@contextmanager
def open_snapshot(work_dir: Path) -> Iterator[Snapshot]:
    """Copy the default database into `work_dir`; yield it with a reader of the same state."""
    vendor = database_vendor()
    work_dir.mkdir(parents=True, exist_ok=True)
    if vendor == "sqlite":
        path = work_dir / f".snapshot-{uuid.uuid4().hex[:8]}.sqlite3"
        try:
            copy_sqlite_database(sqlite_database_path(), path)
            reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                yield Snapshot(path, lambda sql: reader.execute(sql).fetchall())
            finally:
                reader.close()
        finally:
            path.unlink(missing_ok=True)
        return
    path = work_dir / f".snapshot-{uuid.uuid4().hex[:8]}.pgdump"
    import psycopg

    database = settings.DATABASES["default"]
    try:
        with psycopg.connect(host=database.get("HOST") or None, port=database.get("PORT") or None,
                             user=database.get("USER") or None,
                             password=database.get("PASSWORD") or None,
                             dbname=database["NAME"], autocommit=True) as connection:
            connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            row = connection.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            dump_postgresql(path, snapshot_id=str(row[0]))
            yield Snapshot(path, lambda sql: connection.execute(sql).fetchall())
    finally:
        path.unlink(missing_ok=True)


def applied_migrations() -> dict[str, str]:
    """The latest applied migration of every app: what the restored database will be at."""
    latest: dict[str, str] = {}
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            latest[app] = name
    return latest


def database_has_tables() -> bool:
    connection = connections["default"]
    if connection.vendor == "sqlite":
        path = sqlite_database_path()
        if not path.is_file() or path.stat().st_size == 0:
            return False
    return bool(connection.introspection.table_names())


def restore_default_database(staged: Path, vendor: str) -> None:
    """Put the staged copy in place of the default database (which must be unused)."""
    if vendor != database_vendor():
        raise DatabaseCopyError(
            f"the backup holds a {vendor} database but DATABASE_URL names a "
            f"{database_vendor()} one; point DATABASE_URL at the same kind and run it again")
    connections.close_all()
    if vendor == "sqlite":
        target = sqlite_database_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
        try:
            shutil.copyfile(staged, partial)
            _fsync_file(partial)
            # The old WAL must go before the rename: left beside the new file, the next
            # connection would replay the old database's pages into it (DESIGN.md).
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return
    _run_tool([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
               "--single-transaction", f"--dbname={_postgres_environment()['PGDATABASE']}",
               str(staged)], "pg_restore")
