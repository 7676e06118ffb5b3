"""put_file: dedupe, integrity and cleanup (DESIGN invariants 3 and 4), on real files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from storage import files
from storage.files import (
    ChecksumCollisionError,
    ChecksumMismatchError,
    StoredFileNotFoundError,
    open_stored_file,
    put_file,
)
from storage.models import StoredFile
from storage.paths import storage_path


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file() or path.is_symlink())


@pytest.mark.django_db
def test_same_bytes_stored_twice_are_one_file_and_one_row(content_dir: Path) -> None:
    data = os.urandom(100_000)
    first = put_file(data, "mp4")
    second = put_file(data, "mp4")

    assert first.created is True
    assert second.created is False
    assert first.checksum == second.checksum == hashlib.md5(data).hexdigest()
    assert files_under(content_dir / "storage") == [first.path]
    assert first.path.read_bytes() == data
    assert StoredFile.objects.count() == 1
    row = StoredFile.objects.get()
    assert (row.checksum, row.extension, row.size) == (first.checksum, "mp4", len(data))
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    assert files_under(content_dir / "tmp") == []


@pytest.mark.django_db
def test_it_accepts_paths_and_open_files(tmp_path: Path) -> None:
    source = tmp_path / "lesson.pdf"
    source.write_bytes(b"%PDF-1.4 lesson")
    from_path = put_file(source, "pdf")
    with open(source, "rb") as handle:
        from_handle = put_file(handle, "PDF")
    assert from_path.checksum == from_handle.checksum
    assert (from_path.created, from_handle.created) == (True, False)
    assert from_handle.extension == "pdf"


@pytest.mark.django_db
def test_it_refuses_a_second_file_with_the_same_md5_but_other_bytes(content_dir: Path) -> None:
    data = b"the real lesson"
    checksum = hashlib.md5(data).hexdigest()
    StoredFile.objects.create(checksum=checksum, extension="txt", size=len(data),
                              sha256="0" * 64)

    with pytest.raises(ChecksumCollisionError):
        put_file(data, "txt")

    assert files_under(content_dir / "storage") == []
    assert files_under(content_dir / "tmp") == []
    assert StoredFile.objects.get().sha256 == "0" * 64


@pytest.mark.django_db
def test_a_wrong_expected_checksum_stores_nothing(content_dir: Path) -> None:
    with pytest.raises(ChecksumMismatchError):
        put_file(b"some bytes", "bin", expected_checksum="0" * 32)

    assert files_under(content_dir / "storage") == []
    assert files_under(content_dir / "tmp") == []
    assert StoredFile.objects.count() == 0


@pytest.mark.django_db
def test_a_right_expected_checksum_is_accepted() -> None:
    data = b"some bytes"
    stored = put_file(data, "bin", expected_checksum=hashlib.md5(data).hexdigest())
    assert stored.created is True


@pytest.mark.django_db
def test_a_failed_rename_leaves_no_file_anywhere(content_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_replace(source: object, destination: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(OSError):
        put_file(os.urandom(10_000), "bin")

    assert files_under(content_dir / "storage") == []
    assert files_under(content_dir / "tmp") == []
    assert StoredFile.objects.count() == 0


@pytest.mark.django_db
def test_a_failing_source_leaves_no_temp_file(content_dir: Path) -> None:
    class BrokenSource:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError(5, "drive removed")
            return b"x" * 1024

    with pytest.raises(OSError):
        put_file(BrokenSource(), "bin")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        put_file(content_dir / "missing.bin", "bin")

    assert files_under(content_dir / "storage") == []
    assert files_under(content_dir / "tmp") == []


@pytest.mark.django_db
def test_it_registers_a_good_file_found_on_disk_without_rewriting_it(content_dir: Path) -> None:
    """A crash after the rename but before the registry insert: the next put just registers."""
    data = os.urandom(5_000)
    checksum = hashlib.md5(data).hexdigest()
    target = storage_path(checksum, "bin")
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    inode = target.stat().st_ino

    stored = put_file(data, "bin")

    assert stored.created is False
    assert target.stat().st_ino == inode
    assert StoredFile.objects.get().sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.django_db
def test_it_replaces_a_corrupt_file_found_on_disk(content_dir: Path) -> None:
    data = os.urandom(5_000)
    checksum = hashlib.md5(data).hexdigest()
    target = storage_path(checksum, "bin")
    target.parent.mkdir(parents=True)
    target.write_bytes(bytes(len(data)))  # same size, wrong bytes

    stored = put_file(data, "bin")

    assert stored.created is True
    assert target.read_bytes() == data


def test_open_stored_file_reads_only_regular_files_in_the_store(content_dir: Path) -> None:
    data = b"inside"
    checksum = hashlib.md5(data).hexdigest()
    target = storage_path(checksum, "txt")
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    opened = open_stored_file(checksum, "txt")
    with opened.file:
        assert (opened.size, opened.file.read()) == (len(data), data)

    outside = content_dir / "secret.txt"
    outside.write_bytes(b"secret")
    link_checksum = "ab" + "0" * 30
    link = storage_path(link_checksum, "txt")
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    folder_checksum = "cd" + "0" * 30
    storage_path(folder_checksum, "txt").mkdir(parents=True)

    for missing in (("ef" + "0" * 30, "txt"), (link_checksum, "txt"), (folder_checksum, "txt")):
        with pytest.raises(StoredFileNotFoundError):
            open_stored_file(*missing)


@pytest.mark.django_db
def test_storing_bytes_again_makes_the_file_look_new_to_the_collector():
    first = put_file(b"a lesson stored long ago", "pdf")
    long_ago = first.path.stat().st_mtime - 5 * 24 * 3600
    os.utime(first.path, (long_ago, long_ago))
    again = put_file(b"a lesson stored long ago", "pdf")
    assert again.created is False
    assert again.path.stat().st_mtime > long_ago + 4 * 24 * 3600
