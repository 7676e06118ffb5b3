"""StoreBatch: many files, one sync per batch, registered only once whole and durable
(DESIGN invariants 3 and 4), on real files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storage import batch as batch_module
from storage import files
from storage.batch import StoreBatch, sync_filesystem
from storage.files import ChecksumMismatchError
from storage.models import StoredFile
from storage.paths import storage_path


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


@pytest.mark.django_db
def test_staged_files_are_neither_in_the_store_nor_registered_until_the_commit(
        content_dir: Path) -> None:
    payloads = [os.urandom(1000 + index) for index in range(5)]
    batch = StoreBatch()
    for data in payloads:
        batch.stage(data, "pdf", expected_checksum=hashlib.md5(data).hexdigest())
    assert batch.staged_count == 5
    assert files_under(content_dir / "storage") == []
    assert not StoredFile.objects.exists()

    outcome = batch.commit()

    assert sorted(result.checksum for result in outcome.stored) == sorted(
        hashlib.md5(data).hexdigest() for data in payloads)
    assert all(result.created for result in outcome.stored)
    for data in payloads:
        checksum = hashlib.md5(data).hexdigest()
        assert storage_path(checksum, "pdf").read_bytes() == data
        row = StoredFile.objects.get(checksum=checksum)
        assert (row.extension, row.size, row.sha256) == (
            "pdf", len(data), hashlib.sha256(data).hexdigest())
        assert row.added_at is not None
    assert files_under(content_dir / "tmp") == []
    assert batch.staged_count == 0


@pytest.mark.django_db
def test_a_commit_registers_its_files_in_one_insert(content_dir: Path) -> None:
    batch = StoreBatch()
    for index in range(40):
        batch.stage(f"file {index}".encode(), "txt")
    with CaptureQueriesContext(connection) as queries:
        batch.commit()
    # An executemany is logged once, as "40 times: INSERT ...".
    inserts = [query["sql"] for query in queries.captured_queries if "INSERT" in query["sql"]]
    assert len(inserts) == 1 and inserts[0].startswith("40 times"), inserts
    assert StoredFile.objects.count() == 40


@pytest.mark.django_db
def test_the_filesystem_is_synced_before_the_renames_and_before_the_rows(
        content_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_replace, real_sync = os.replace, sync_filesystem

    def replace(source: str, target: str) -> None:
        real_replace(source, target)
        events.append("rename")  # after: a first try may fail for a missing folder

    def sync(path: Path) -> None:
        events.append(f"sync {Path(path).name}")
        real_sync(path)

    def register(rows: list[files.StagedFile]) -> None:
        events.append(f"register {len(rows)}")
        real_register(rows)

    real_register = batch_module._register
    monkeypatch.setattr(files.os, "replace", replace)
    monkeypatch.setattr(batch_module, "sync_filesystem", sync)
    monkeypatch.setattr(batch_module, "_register", register)
    batch = StoreBatch()
    batch.stage(b"one", "txt")
    batch.commit()
    batch.stage(b"two", "txt")
    batch.stage(b"three", "txt")
    batch.commit()
    assert events == ["sync tmp", "rename", "sync storage", "register 1",
                      "sync tmp", "rename", "rename", "sync storage", "register 2"]


@pytest.mark.django_db
def test_batches_grow_from_one_file(content_dir: Path) -> None:
    batch = StoreBatch()
    sizes = []
    for index in range(40):
        batch.stage(f"item {index}".encode(), "txt")
        if batch.is_full:
            sizes.append(len(batch.commit().stored))
    assert sizes == [1, 2, 4, 8, 16]


@pytest.mark.django_db
def test_a_mismatch_is_refused_at_once_and_leaves_no_temp_file(content_dir: Path) -> None:
    batch = StoreBatch()
    with pytest.raises(ChecksumMismatchError):
        batch.stage(b"damaged", "pdf", expected_checksum="0" * 32)
    assert batch.staged_count == 0
    assert files_under(content_dir / "tmp") == []


@pytest.mark.django_db
def test_a_damaged_unregistered_copy_in_place_is_replaced(content_dir: Path) -> None:
    data = b"the whole lesson"
    checksum = hashlib.md5(data).hexdigest()
    path = storage_path(checksum, "pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"the half lesson!")  # same size, other bytes: a torn write
    batch = StoreBatch()
    batch.stage(data, "pdf")
    (result,) = batch.commit().stored
    assert result.created is True
    assert path.read_bytes() == data
    assert StoredFile.objects.get().checksum == checksum


@pytest.mark.django_db
def test_a_second_file_with_a_registered_md5_but_other_bytes_is_a_collision(
        content_dir: Path) -> None:
    data = b"the real lesson"
    checksum = hashlib.md5(data).hexdigest()
    files.put_file(data, "pdf")
    StoredFile.objects.filter(checksum=checksum).update(sha256="f" * 64)
    batch = StoreBatch()
    batch.stage(data, "pdf")
    batch.stage(b"another", "pdf")
    outcome = batch.commit()
    assert [staged.checksum for staged, _problem in outcome.collisions] == [checksum]
    assert [result.checksum for result in outcome.stored] == [
        hashlib.md5(b"another").hexdigest()]
    assert files_under(content_dir / "tmp") == []


@pytest.mark.django_db
def test_the_same_bytes_twice_in_a_batch_are_stored_once(content_dir: Path) -> None:
    batch = StoreBatch()
    batch.stage(b"twice", "txt")
    batch.stage(b"twice", "txt")
    assert batch.staged_count == 1
    assert len(batch.commit().stored) == 1
    assert files_under(content_dir / "tmp") == []


@pytest.mark.django_db
def test_leaving_the_block_on_an_error_keeps_the_staged_files(content_dir: Path) -> None:
    with pytest.raises(KeyboardInterrupt), StoreBatch() as batch:
        batch.stage(b"kept", "txt")
        raise KeyboardInterrupt
    assert StoredFile.objects.get().checksum == hashlib.md5(b"kept").hexdigest()
    assert files_under(content_dir / "tmp") == []
