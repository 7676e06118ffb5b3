"""One transfer at a time per channel (imports) and per drive (exports), across processes.

Separate from `channels.locks.channel_lock`, which `install_channel_version` takes for the short
install step: an import holds its transfer lock for its whole run (copying a database, then
installing it), and a flock is per open file, so holding the channel lock meanwhile would make
the install refuse itself. Like the channel lock, the kernel drops a flock when its holder dies:
a SIGKILL or a power cut never leaves a transfer "running".

    with import_lock(channel_id):         # TransferBusyError (exit 7) if another import runs
        ...
"""

from __future__ import annotations

import hashlib
import os
from contextlib import AbstractContextManager
from pathlib import Path

from django.conf import settings

from channels.locks import exclusive_file_lock
from channels.transfer.errors import TransferBusyError
from routers.ids import is_valid_channel_id


def _lock_file(name: str) -> Path:
    return Path(settings.CONTENT_DIR) / "locks" / f"transfer-{name}.lock"


def _exclusive(name: str, what: str) -> AbstractContextManager[None]:
    return exclusive_file_lock(_lock_file(name), lambda: TransferBusyError(what))


def import_lock(channel_id: str) -> AbstractContextManager[None]:
    if not is_valid_channel_id(channel_id):
        raise ValueError(f"not a channel id: {channel_id!r}")
    return _exclusive(channel_id, f"channel {channel_id}")


def drive_lock(drive_root: Path) -> AbstractContextManager[None]:
    key = hashlib.md5(os.fsencode(os.path.realpath(drive_root))).hexdigest()
    return _exclusive(f"drive-{key}", f"the drive {drive_root}")


def is_import_running(channel_id: str) -> bool:
    """Whether a live process holds the channel's import lock (without waiting for it)."""
    try:
        with import_lock(channel_id):
            return False
    except TransferBusyError:
        return True
