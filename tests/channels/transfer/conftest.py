"""Fixtures for transfer tests: a drive folder, a channel exported to it, and a switch to a
second, empty server (its own content folder and an empty registry) in the same process.

    def test_round_trip(exported, second_server):
        second_server()                                 # from here on we are "the other school"
        import_channel_from_disk(exported.channel_id, exported.drive)
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from django.db import connections

from channels.builder import BuildResult
from channels.models import Channel
from channels.selectors import forget_channel_state
from channels.transfer.disk import export_content_to_disk
from routers.ids import is_valid_channel_id
from routers.registry import unregister_alias
from storage.models import StoredFile


@dataclass(frozen=True)
class Exported:
    channel_id: str
    drive: Path
    source_content: Path   # the first server's content folder
    build: BuildResult

    @property
    def data(self) -> Path:
        return self.drive / "KOLIBRI_DATA" / "content"

    def drive_file(self, checksum: str, extension: str) -> Path:
        return self.data / "storage" / checksum[0] / checksum[1] / f"{checksum}.{extension}"


@pytest.fixture
def drive(tmp_path: Path) -> Path:
    path = tmp_path / "usb"
    path.mkdir()
    return path


@pytest.fixture
def exported(make_channel, drive: Path, content_dir: Path) -> Exported:
    build = make_channel("maths", topics=2, leaves=3)
    export_content_to_disk(build.channel_id, drive)
    return Exported(build.channel_id, drive, content_dir, build)


@pytest.fixture
def second_server(settings, tmp_path: Path) -> Callable[[], Path]:
    """Become another server: a new empty content folder and registry (the drive stays)."""

    def switch(name: str = "second") -> Path:
        for alias in list(connections.settings):
            if is_valid_channel_id(alias):
                unregister_alias(alias)
        Channel.objects.all().delete()
        StoredFile.objects.all().delete()
        forget_channel_state()
        root = tmp_path / name
        settings.CONTENT_DIR = root
        settings.CONTENT_STORAGE_DIR = root / "storage"
        settings.CONTENT_DATABASE_DIR = root / "databases"
        settings.CONTENT_TEMP_DIR = root / "tmp"
        for folder in ("storage", "databases", "tmp"):
            (root / folder).mkdir(parents=True)
        return root

    return switch


def table_rows(database: Path, table: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    finally:
        connection.close()


def stored_files(content: Path) -> dict[str, str]:
    """relative path -> MD5 of every file in a content folder's storage."""
    found = {}
    for path in sorted((content / "storage").rglob("*")):
        if path.is_file():
            found[path.relative_to(content / "storage").as_posix()] = \
                hashlib.md5(path.read_bytes()).hexdigest()
    return found


def temp_entries(content: Path) -> list[str]:
    return sorted(path.name for path in (content / "tmp").iterdir())


class FailingReader:
    """A file on a drive that is pulled out after `good_bytes`: reads then raise `error`."""

    def __init__(self, path: Path, good_bytes: int, error: OSError) -> None:
        self.handle = open(path, "rb")
        self.left, self.error = good_bytes, error

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            raise self.error
        chunk = self.handle.read(min(size, self.left) if size > 0 else self.left)
        self.left -= len(chunk)
        return chunk

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> FailingReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
