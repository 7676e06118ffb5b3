"""Fixtures for the file store's tests: bytes placed straight into the per-test store.

Serving reads the disk, not the registry, so HTTP tests place files without a database.

    stored = place_in_storage(b"hello", "txt")
    client.get(stored.url)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from storage.paths import storage_path, storage_url


@dataclass(frozen=True)
class PlacedFile:
    checksum: str
    extension: str
    data: bytes

    @property
    def url(self) -> str:
        return storage_url(self.checksum, self.extension)

    @property
    def path(self) -> Path:
        return storage_path(self.checksum, self.extension)


def write_into_storage(storage_dir: Path, data: bytes, extension: str) -> PlacedFile:
    """Write `data` at its content address under `storage_dir` (a server's own store too)."""
    checksum = hashlib.md5(data).hexdigest()
    target = storage_dir / checksum[0] / checksum[1] / f"{checksum}.{extension}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return PlacedFile(checksum, extension, data)


@pytest.fixture
def place_in_storage(content_dir: Path) -> Callable[..., PlacedFile]:
    def place(data: bytes, extension: str = "bin") -> PlacedFile:
        return write_into_storage(content_dir / "storage", data, extension)

    return place


def response_body(response) -> bytes:
    """The whole body of a test-client response, streamed or not."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content
