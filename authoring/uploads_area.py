"""Where partial uploads live: `CONTENT_DIR/uploads/<partial_name>`.

Not in the temp area: `purgetemp` removes whatever is untouched for a day there, and a
resumable upload of a live draft may pause for longer (a laptop closed over the weekend). Its
own folder is managed by the upload registry instead (authoring.collector). Same filesystem as
the store, under CONTENT_DIR.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from authoring.models import UploadRecord

UPLOADS_FOLDER = "uploads"


def uploads_dir() -> Path:
    return Path(settings.CONTENT_DIR) / UPLOADS_FOLDER


def partial_path(record: UploadRecord) -> Path:
    # The name is ours (`<uuid>.part`), but never trust a stored name to leave the folder.
    return uploads_dir() / Path(record.partial_name).name
