"""Connections to channel databases: registration, freshness, and a bound per thread.

Each channel's alias is its channel id. The alias is registered the first time it is needed, as a
complete copy of a read-only SQLite settings dict (Django fills defaults only at start-up).

Three rules keep readers correct while publish, import and revert swap files under them:

1. Freshness: a connection remembers which file it opened (device, inode, mtime, size). When the
   path now names another file (a rename put a new version in place), the connection is closed
   and the next query opens the new file. A connection left open would read the old file forever.
2. Bound: a thread keeps at most `CONTENT_DB_CONNECTIONS_PER_THREAD` channel connections; it
   closes its least recently used ones itself (Django connections belong to their thread),
   never one that the request or an enclosing block is still reading.
3. Release: `release_channel_connections(channel_id)` closes this thread's connection at once and
   bumps a generation number, so other threads close theirs at the start of their next request,
   before the file is replaced or deleted (open files cannot be deleted on Windows).

    alias = activate_channel_connection(channel_id)   # raises ChannelDatabaseNotFoundError
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from routers.context import active_content_databases, set_activation_hook
from routers.errors import ChannelDatabaseNotFoundError, InvalidChannelIdError
from routers.ids import is_valid_channel_id

_registration_lock = threading.Lock()
_generations: dict[str, int] = {}
_thread_state = threading.local()

FileIdentity = tuple[int, int, int, int]


def channel_database_path(channel_id: str) -> Path:
    if not is_valid_channel_id(channel_id):
        raise InvalidChannelIdError(channel_id)
    return Path(settings.CONTENT_DATABASE_DIR) / f"{channel_id}.sqlite3"


def read_only_database_settings(path: Path) -> dict[str, Any]:
    """A complete settings dict for a read-only SQLite connection to `path`.

    `mode=ro` makes a missing file an error instead of a new empty database, and makes every
    write fail ("attempt to write a readonly database").
    """
    uri = f"file:{path.as_posix()}?mode=ro"
    return complete_database_settings(
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": uri,
            # Kept open across requests; freshness and the per-thread bound decide when to close.
            "CONN_MAX_AGE": None,
            "OPTIONS": {"uri": True, "timeout": 5},
        }
    )


def complete_database_settings(partial: dict[str, Any]) -> dict[str, Any]:
    filled = connections.configure_settings(
        {"default": {"ENGINE": "django.db.backends.dummy"}, "__channel__": dict(partial)}
    )
    return dict(filled["__channel__"])


def register_alias(alias: str, database_settings: dict[str, Any]) -> None:
    """Register (or re-point) `alias`. Callers give a complete dict (`complete_database_settings`).

    Copy-on-write: Django iterates `connections.settings` at every request start and end
    (`close_old_connections` -> `connections.all()`), in every server thread. Adding a key to the
    dict that another thread is iterating raises "dictionary changed size during iteration", so
    the dict is replaced by an extended copy instead; iterators keep the old one.
    """
    with _registration_lock:
        updated = dict(connections.settings)
        updated[alias] = database_settings
        connections.settings = updated


def unregister_alias(alias: str) -> None:
    """Forget `alias`: close and drop this thread's connection object, remove its settings."""
    with _registration_lock:
        _close_in_this_thread(alias)
        per_thread = connections._connections  # type: ignore[attr-defined]
        if hasattr(per_thread, alias):
            # Else a later alias of the same name would reuse this thread's old wrapper and
            # its old settings (Django caches wrappers per thread, by alias).
            delattr(per_thread, alias)
        if alias in connections.settings:
            updated = dict(connections.settings)
            del updated[alias]
            connections.settings = updated


def is_registered(alias: str) -> bool:
    return alias in connections.settings


def activate_channel_connection(channel_id: str) -> str:
    """Make this thread's connection to `channel_id` current with the file on disk; return the alias."""
    path = channel_database_path(channel_id)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        _close_in_this_thread(channel_id)
        raise ChannelDatabaseNotFoundError(channel_id) from None
    identity: FileIdentity = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if channel_id not in connections.settings:
        register_alias(channel_id, read_only_database_settings(path))

    opened = _opened_in_this_thread()
    seen = opened.get(channel_id)
    generation = _generations.get(channel_id, 0)
    if seen is not None and seen != (identity, generation):
        connections[channel_id].close()
    opened[channel_id] = (identity, generation)
    opened.move_to_end(channel_id)
    _enforce_bound(opened, keep=channel_id)
    return channel_id


def release_channel_connections(channel_id: str) -> None:
    """Close connections to `channel_id`: this thread's now, other threads' on their next request."""
    with _registration_lock:
        _generations[channel_id] = _generations.get(channel_id, 0) + 1
    _close_in_this_thread(channel_id)


def close_released_connections() -> None:
    """Close this thread's connections whose channel was released since they were opened."""
    opened = _opened_in_this_thread()
    for channel_id, (_identity, generation) in list(opened.items()):
        if _generations.get(channel_id, 0) != generation:
            _close_in_this_thread(channel_id)


def open_channel_connection_count() -> int:
    """How many channel connections this thread holds open (for tests and diagnostics)."""
    return sum(
        1
        for channel_id in _opened_in_this_thread()
        if channel_id in connections.settings and connections[channel_id].connection is not None
    )


def opened_in_this_thread() -> list[str]:
    """The channels this thread holds a connection to, least recently used first."""
    return list(_opened_in_this_thread())


def _opened_in_this_thread() -> OrderedDict[str, tuple[FileIdentity, int]]:
    opened = getattr(_thread_state, "opened", None)
    if opened is None:
        opened = OrderedDict()
        _thread_state.opened = opened
    return opened


def _enforce_bound(opened: OrderedDict[str, tuple[FileIdentity, int]], keep: str) -> None:
    """Close the least recently used connections beyond the bound, except those in use.

    `keep` is the channel being activated (not active yet, but about to be). A channel that
    this context is still reading (the request's, or an enclosing block's) is skipped: closing
    it would make its next query reopen, maybe on a newer file, and the outer reader would see
    two versions. So a thread may exceed the bound by its nesting depth.
    """
    bound = int(getattr(settings, "CONTENT_DB_CONNECTIONS_PER_THREAD", 64))
    if len(opened) <= bound:
        return
    in_use = active_content_databases() | {keep}
    for channel_id in list(opened):
        if len(opened) <= bound:
            return
        if channel_id in in_use:
            continue
        del opened[channel_id]
        if channel_id in connections.settings:
            connections[channel_id].close()


def _close_in_this_thread(channel_id: str) -> None:
    _opened_in_this_thread().pop(channel_id, None)
    if channel_id in connections.settings:
        connections[channel_id].close()


set_activation_hook(activate_channel_connection)
