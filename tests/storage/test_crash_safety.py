"""A process killed between writing and renaming leaves no partial file in the store.

The crash is real: a child process runs `put_file` with `os.replace` replaced by SIGKILL to
itself, so nothing after that point (no `finally`, no cleanup) runs, as on a power cut.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]

CHILD = r"""
import os, signal, sys
from pathlib import Path

import django

django.setup()
from django.db import connection

from storage.models import StoredFile

with connection.schema_editor() as editor:
    editor.create_model(StoredFile)

from storage import files


def die_instead_of_renaming(source, destination):
    print("about to rename", source, destination, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


files.os.replace = die_instead_of_renaming
files.put_file(Path(sys.argv[1]), "bin")
print("survived", flush=True)
"""


def _files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_crash_between_write_and_rename_leaves_nothing_under_storage(tmp_path: Path) -> None:
    home = tmp_path / "child-home"
    content = tmp_path / "child-content"
    payload = tmp_path / "payload.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    payload.write_bytes(data)
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "kolibri_like.settings",
        "KOLIBRI_LIKE_HOME": str(home),
        "CONTENT_DIR": str(content),
        "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}",
        "ZEROCONF_ENABLED": "0",
    })

    child = subprocess.run([sys.executable, "-c", CHILD, str(payload)], env=env,
                           cwd=REPOSITORY, capture_output=True, text=True, timeout=120)

    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    assert "about to rename" in child.stdout
    assert "survived" not in child.stdout
    assert _files_under(content / "storage") == []
    leftovers = _files_under(content / "tmp")
    # The temp area is the only place with leftovers (purgetemp's job), and it holds the
    # whole, synced copy: the crash came after the write, before the rename.
    assert len(leftovers) == 1 and leftovers[0].name.startswith("put-")
    # The only other file is the store's lock file, which holds no data.
    assert [path for path in _files_under(content) if path.parent.name != "locks"] == leftovers
    assert leftovers[0].read_bytes() == data
