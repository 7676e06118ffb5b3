"""Is a server (or its consumer) using this home? Restore must not replace files under it.

Two signs, either enough:
1. `KOLIBRI_LIKE_HOME/server.lock` is locked: `hold_server_lock()` takes it for the life of the
   process (for `kolibri-like start` to call; the kernel drops it when the process dies).
2. Another process holds the default SQLite database or the task queue's SQLite file open
   (Linux `/proc/<pid>/fd`): the server keeps its connections open, the consumer its queue.
3. On PostgreSQL, another session is connected to the default database (the server keeps its
   connections open for CONN_MAX_AGE).

    processes = processes_using_home()     # ["pid 4242: kolibri-like start ...", ...]
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from django.conf import settings
from django.db import connections

_held_lock_descriptor: int | None = None


def server_lock_path() -> Path:
    return Path(settings.HOME) / "server.lock"


def hold_server_lock() -> bool:
    """Take the server lock for this process's lifetime; False if another process holds it."""
    global _held_lock_descriptor
    if _held_lock_descriptor is not None:
        return True
    descriptor = os.open(server_lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return False
    _held_lock_descriptor = descriptor
    return True


def server_lock_is_held() -> bool:
    path = server_lock_path()
    if _held_lock_descriptor is not None or not path.exists():
        return False
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def _watched_files() -> set[str]:
    watched = set()
    database = settings.DATABASES["default"]
    if str(database["ENGINE"]).endswith("sqlite3"):
        watched.add(str(Path(str(database["NAME"])).resolve()))
    queue_file = settings.HUEY.get("filename")
    if queue_file:
        watched.add(str(Path(str(queue_file)).resolve()))
    return watched | {f"{name}-wal" for name in watched}


def processes_using_home() -> list[str]:
    """Other processes that use this home (see the module doc), described for the admin."""
    found = []
    if server_lock_is_held():
        found.append(f"the server lock {server_lock_path()} is held")
    found += _postgres_sessions()
    watched = _watched_files()
    proc = Path("/proc")
    if not watched or not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            targets = {os.readlink(link) for link in (entry / "fd").iterdir()}
        except OSError:  # gone meanwhile, or another user's process
            continue
        if targets & watched:
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace").strip()
            except OSError:
                command = "?"
            found.append(f"pid {entry.name}: {command[:200]}")
    return found


def _postgres_sessions() -> list[str]:
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid, application_name, client_addr FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        rows = cursor.fetchall()
    connection.close()  # the restore may replace this database's contents next
    return [f"database session {pid} from {address or 'local socket'} {name or ''}".rstrip()
            for pid, name, address in rows]
