"""Checks of an imported file beyond its checksum: a zip must be one the sandbox origin serves.

A drive or a peer vouches for a file's bytes (its MD5), not for what they are. An HTML5 app's
zip that is a zip bomb, names files absolutely or with `..`, or has no `index.html` at its top
(storage.zip_serving.check_zip_archive) is never stored: `copy_files` calls
`refuse_unsafe_content` once a file is staged in its batch (hashed, in the temp area, not yet
in the store), and a refused file is dropped from the batch and reported like a damaged one
(skipped, exit 4; its node stays unavailable, and a re-run refuses it again). Every zip gets
the archive checks; `index.html` is required only of `html5_zip` files (Kolibri also ships
zips of other roles, such as QTI exercises, that start elsewhere). A zip already in the store
before the import is not checked again (serving applies the same limits anyway).

    source.store(ref, on_bytes, batch)
    refuse_unsafe_content(ref, channel_id, batch)   # FileUnavailableError naming each problem
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

from channels.transfer.selection import FileRef
from routers.registry import channel_database_path
from storage.batch import StoreBatch
from storage.zip_serving import check_zip_archive

ZIP_EXTENSION = "zip"
APP_PRESETS = ("html5_zip",)


def refuse_unsafe_content(ref: FileRef, channel_id: str, batch: StoreBatch) -> None:
    """Raise FileUnavailableError, and drop the file from `batch`, if `ref` (just staged there
    for `channel_id`) is a zip that fails the archive checks; return quietly otherwise."""
    if ref.extension.lower() != ZIP_EXTENSION:
        return
    staged = batch.staged_file(ref.checksum)
    if staged is None:
        return  # nothing staged (the source skipped it): nothing will be stored
    problems = check_zip_archive(staged.temp_path,
                                 require_index=is_app_zip(channel_id, ref.checksum))
    if not problems:
        return
    batch.unstage(ref.checksum)
    # Imported here: channels.transfer.base imports this module.
    from channels.transfer.base import FileUnavailableError

    raise FileUnavailableError("refused HTML5 app archive: " + "; ".join(problems))


def is_app_zip(channel_id: str, checksum: str) -> bool:
    """Whether the channel's current database uses `checksum` as an HTML5 app's zip."""
    path = channel_database_path(channel_id)
    marks = ", ".join("?" for _preset in APP_PRESETS)
    try:
        # The installed file passed the import checks; read-only, never created if missing.
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            row = connection.execute(
                f"SELECT 1 FROM content_file WHERE local_file_id = ? AND preset IN ({marks}) "
                "LIMIT 1", (checksum, *APP_PRESETS)).fetchone()
    except sqlite3.Error:
        return True  # role unknown: hold the zip to the stricter rule
    return row is not None
