"""Purging the temp area (storage.temp): old leftovers go, work in progress stays.

Ages are judged as of `now=` two days ahead; an entry is made young by giving it an mtime in
that future (an entry's age is the later of its mtime and ctime).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from storage.files import put_file
from storage.temp import newest_stamp, purge_temp

DAY = 24 * 60 * 60


@pytest.fixture
def now() -> float:
    return time.time() + 2 * DAY


def make_young(path: Path, now: float) -> None:
    os.utime(path, (now - 60, now - 60), follow_symlinks=False)


def test_it_removes_old_entries_and_keeps_young_ones(content_dir, now):
    temp = content_dir / "tmp"
    old_part = temp / "put-old.part"
    old_part.write_bytes(b"x" * 100)
    old_folder = temp / "upload-1"
    (old_folder / "nested").mkdir(parents=True)
    (old_folder / "nested" / "chunk").write_bytes(b"y" * 50)
    young_part = temp / "put-young.part"
    young_part.write_bytes(b"still uploading")
    make_young(young_part, now)

    report = purge_temp(now=now)

    assert not old_part.exists() and not old_folder.exists()
    assert young_part.read_bytes() == b"still uploading"
    assert sorted(path.name for path in report.removed) == ["put-old.part", "upload-1"]
    assert report.kept == 1
    assert report.bytes_freed >= 150


def test_a_folder_with_one_young_file_is_an_import_in_progress(content_dir, now):
    importing = content_dir / "tmp" / "import-abc"
    (importing / "deep" / "deeper").mkdir(parents=True)
    (importing / "old.bin").write_bytes(b"copied yesterday")
    latest = importing / "deep" / "deeper" / "latest.bin"
    latest.write_bytes(b"being written now")
    make_young(latest, now)

    report = purge_temp(now=now)

    assert (importing / "old.bin").exists() and latest.exists()
    assert report.removed == [] and report.kept == 1


def test_nothing_younger_than_a_day_is_removed_by_the_real_clock(content_dir):
    part = content_dir / "tmp" / "put-now.part"
    part.write_bytes(b"an upload in flight")
    report = purge_temp()
    assert part.exists() and report.removed == []


def test_a_link_is_removed_not_followed(content_dir, now, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"must survive")
    link = content_dir / "tmp" / "link"
    link.symlink_to(outside)

    purge_temp(now=now)

    assert not link.is_symlink() and outside.read_bytes() == b"must survive"


def test_database_leftovers_go_but_journals_and_channels_stay(content_dir, now, make_channel):
    maths = make_channel("maths")
    databases = content_dir / "databases"
    swap = databases / ".swap-abc.sqlite3"
    partial = databases / "versions" / maths.channel_id / ".1.sqlite3.abcd.partial"
    part = databases / "x.part"
    index_partial = databases / "search" / maths.channel_id / "1.sqlite3.abcd.partial"
    index_partial.parent.mkdir(parents=True, exist_ok=True)
    journal = databases / f"{maths.channel_id}.sqlite3-journal"
    for path in (swap, partial, part, journal, index_partial):
        path.write_bytes(b"left over")
    young_swap = databases / ".swap-young.sqlite3"
    young_swap.write_bytes(b"a revert right now")
    make_young(young_swap, now)

    purge_temp(now=now)

    assert not swap.exists() and not partial.exists() and not part.exists()
    assert not index_partial.exists()
    assert journal.exists() and young_swap.exists()
    assert maths.path.exists()
    assert (databases / "versions" / maths.channel_id / "1.sqlite3").exists()


def test_it_never_touches_stored_files(content_dir, now, db):
    stored = put_file(b"stored long ago", "pdf")
    purge_temp(now=now)
    assert stored.path.read_bytes() == b"stored long ago"


def test_newest_stamp_is_the_youngest_entry(tmp_path):
    folder = tmp_path / "tree"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "file").write_bytes(b"12345")
    os.utime(folder / "a" / "file", (4_000_000_000, 4_000_000_000))
    newest, size = newest_stamp(folder)
    assert newest == 4_000_000_000 and size >= 5
