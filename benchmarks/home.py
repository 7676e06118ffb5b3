"""A throwaway KOLIBRI_LIKE_HOME for one benchmark run, on the embedded defaults.

    home = use_throwaway_home()
    try:
        import django; django.setup(); ...
    finally:
        shutil.rmtree(home, ignore_errors=True)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def use_throwaway_home(prefix: str = "kolibri-like-bench-") -> Path:
    """A new empty home, made the one this process (and the servers it starts) uses: SQLite
    default database, content inside it, never a DATABASE_URL from the caller's shell."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["KOLIBRI_LIKE_HOME"] = str(home)
    os.environ["CONTENT_DIR"] = str(home / "content")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kolibri_like.settings"
    os.environ.pop("DATABASE_URL", None)
    return home
