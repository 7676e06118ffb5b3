"""One operation at a time per channel, across processes: import, publish, revert, delete.

A lock file per channel under `CONTENT_DIR/locks/`, held with `flock`: the kernel releases it when
the holder exits or is killed, so a power cut or SIGKILL never leaves a channel locked.

    with channel_lock(channel_id):        # raises ChannelBusyError (exit 7, HTTP 409) if held
        ...
"""

from __future__ import annotations

import fcntl
import os
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Callable, Iterator

from django.conf import settings

from channels.errors import ChannelBusyError
from routers.ids import is_valid_channel_id


def lock_path(channel_id: str) -> Path:
    if not is_valid_channel_id(channel_id):
        raise ValueError(f"not a channel id: {channel_id!r}")
    return Path(settings.CONTENT_DIR) / "locks" / f"{channel_id}.lock"


@contextmanager
def exclusive_file_lock(path: Path, busy_error: Callable[[], Exception]) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created if needed), or raise `busy_error()` at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy_error() from None
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def channel_lock(channel_id: str) -> AbstractContextManager[None]:
    return exclusive_file_lock(lock_path(channel_id), lambda: ChannelBusyError(channel_id))
