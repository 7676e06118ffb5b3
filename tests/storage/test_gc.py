"""The garbage collector (storage.gc): deletes real garbage, spares what is referenced, young or
in flight, deletes nothing when a source fails, and runs one at a time.

Ages are judged as of `now=` two days ahead, so files stored a moment ago count as old without
touching the clock (a file's age is the later of its mtime and ctime, which os.utime cannot set).
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from datetime import timezone as dt_timezone

import pytest

from channels.models import ChannelVersionFile
from channels.references import ChannelReferenceSource
from channels.versions import delete_channel
from storage.files import put_file
from storage.gc import StorageBusyError, collect_garbage, maintenance_lock
from storage.models import StoredFile
from storage.paths import storage_path
from storage.references import NoReferenceSourcesError, ReferenceSourceError

pytestmark = pytest.mark.django_db

DAY = 24 * 60 * 60
CHANNEL_SOURCE = "channels.references.ChannelReferenceSource"


def two_days_ahead() -> float:
    return time.time() + 2 * DAY


def is_stored(checksum: str, extension: str) -> bool:
    on_disk = storage_path(checksum, extension).is_file()
    registered = StoredFile.objects.filter(checksum=checksum).exists()
    assert on_disk == registered, f"{checksum}: row and file disagree"
    return on_disk


def channel_checksums(channel_id: str) -> set[tuple[str, str]]:
    return set(ChannelVersionFile.objects.filter(version__channel_id=channel_id)
               .values_list("checksum", "extension"))


class BrokenSource:
    name = "broken-certificates"

    def referenced_checksums(self) -> set[str]:
        raise OSError("certificates table is locked")

    def describe_references(self, checksums: set[str]) -> dict[str, list[str]]:
        return {}


class SloppySource:
    name = "sloppy"

    def referenced_checksums(self) -> set[str]:
        return {"ABCDEF0123456789ABCDEF0123456789"}

    def describe_references(self, checksums: set[str]) -> dict[str, list[str]]:
        return {}


class ScriptedSource:
    """Returns one answer per call, and runs `during_call` while answering (work in flight)."""

    name = "scripted"

    def __init__(self, answers: list[set[str]], during_call=None) -> None:
        self.answers, self.during_call, self.calls = answers, during_call, 0

    def referenced_checksums(self) -> set[str]:
        self.calls += 1
        if self.during_call is not None:
            self.during_call(self.calls)
        return self.answers[min(self.calls, len(self.answers)) - 1]

    def describe_references(self, checksums: set[str]) -> dict[str, list[str]]:
        return {}


def test_it_deletes_unreferenced_files_and_keeps_the_channels(make_channel):
    maths = make_channel("maths")
    garbage = put_file(b"a draft nobody published", "pdf")
    other = put_file(b"an upload that was cancelled", "mp4")

    report = collect_garbage(now=two_days_ahead())

    assert not is_stored(garbage.checksum, "pdf")
    assert not is_stored(other.checksum, "mp4")
    assert not garbage.path.exists() and not other.path.exists()
    assert {item.checksum for item in report.deleted} == {garbage.checksum, other.checksum}
    assert report.bytes_freed == garbage.size + other.size
    kept = channel_checksums(maths.channel_id)
    assert kept and all(is_stored(checksum, extension) for checksum, extension in kept)
    assert report.referenced == len(kept)
    assert report.sources == {"channels": len(kept), "drafts": 0}


def test_it_spares_files_younger_than_the_grace_period(make_channel, settings):
    make_channel("maths")
    garbage = put_file(b"uploaded a minute ago", "pdf")

    report = collect_garbage()  # real clock, default grace of a day
    assert is_stored(garbage.checksum, "pdf")
    assert report.deleted == [] and report.young == 1

    settings.STORAGE_GC_GRACE_SECONDS = 0
    report = collect_garbage()
    assert not is_stored(garbage.checksum, "pdf")
    assert [item.checksum for item in report.deleted] == [garbage.checksum]


def test_a_young_row_or_a_young_file_is_enough_to_spare_it(make_channel):
    make_channel("maths")
    now = two_days_ahead()
    young_row = put_file(b"registered recently", "pdf")
    StoredFile.objects.filter(checksum=young_row.checksum).update(
        added_at=datetime.fromtimestamp(now - 60, tz=dt_timezone.utc))
    young_file = put_file(b"written recently", "pdf")
    os.utime(young_file.path, (now - 60, now - 60))
    old = put_file(b"old and forgotten", "pdf")

    report = collect_garbage(now=now)

    assert is_stored(young_row.checksum, "pdf") and is_stored(young_file.checksum, "pdf")
    assert not is_stored(old.checksum, "pdf")
    assert report.young == 2


def test_it_deletes_files_without_rows_and_rows_without_files(make_channel, place_in_storage):
    make_channel("maths")
    loose = place_in_storage(b"copied in by hand", "bin")
    ghost = put_file(b"row only", "pdf")
    ghost.path.unlink()

    report = collect_garbage(now=two_days_ahead())

    assert not loose.path.exists()
    assert not StoredFile.objects.filter(checksum=ghost.checksum).exists()
    deleted = {item.checksum: item for item in report.deleted}
    assert deleted[loose.checksum].had_row is False and deleted[loose.checksum].size == 17
    assert deleted[ghost.checksum].had_row is True and deleted[ghost.checksum].size == 0


def test_files_of_a_deleted_channel_become_garbage_except_shared_ones(make_channel):
    maths = make_channel("maths")
    # Same tree label: the same PDFs, stored once and shared by both channels.
    twin = make_channel("maths", channel_id="b" * 32)
    science = make_channel("science")
    maths_files = channel_checksums(maths.channel_id)
    assert maths_files == channel_checksums(twin.channel_id)

    delete_channel(twin.channel_id)
    report = collect_garbage(now=two_days_ahead())
    assert report.deleted == []  # maths still uses every file the twin had

    delete_channel(maths.channel_id)
    report = collect_garbage(now=two_days_ahead())
    assert {item.checksum for item in report.deleted} == {checksum for checksum, _ in maths_files}
    assert not any(is_stored(checksum, extension) for checksum, extension in maths_files)
    assert all(is_stored(checksum, extension)
               for checksum, extension in channel_checksums(science.channel_id))


def test_every_kept_version_keeps_its_files(make_channel):
    from tests.conftest import small_tree

    first = make_channel("maths")
    old_files = channel_checksums(first.channel_id)
    make_channel("maths", channel_id=first.channel_id, root=small_tree("algebra"))
    collect_garbage(now=two_days_ahead())
    # Version 1 is not current, but a revert would need it.
    assert all(is_stored(checksum, extension) for checksum, extension in old_files)


def test_the_served_file_is_a_safety_net_for_lost_version_rows(make_channel):
    maths = make_channel("maths")
    files = channel_checksums(maths.channel_id)
    ChannelVersionFile.objects.all().delete()

    report = collect_garbage(now=two_days_ahead())

    assert report.deleted == []
    assert all(is_stored(checksum, extension) for checksum, extension in files)


def test_dry_run_lists_what_would_go_and_deletes_nothing(make_channel):
    make_channel("maths")
    garbage = put_file(b"would go", "pdf")

    report = collect_garbage(dry_run=True, now=two_days_ahead())

    assert [item.checksum for item in report.deleted] == [garbage.checksum]
    assert report.bytes_freed == garbage.size
    assert is_stored(garbage.checksum, "pdf")


@pytest.mark.parametrize("sources, name", [
    ([CHANNEL_SOURCE, "tests.storage.test_gc.BrokenSource"], "broken-certificates"),
    ([CHANNEL_SOURCE, "learning.references.NoSuchSource"], "learning.references.NoSuchSource"),
    ([CHANNEL_SOURCE, "tests.storage.test_gc.SloppySource"], "sloppy"),
])
def test_it_deletes_nothing_when_a_source_fails(make_channel, settings, sources, name):
    make_channel("maths")
    garbage = put_file(b"garbage, but we cannot be sure", "pdf")
    settings.STORAGE_REFERENCE_SOURCES = sources

    with pytest.raises(ReferenceSourceError) as raised:
        collect_garbage(now=two_days_ahead())

    assert raised.value.source_name == name and name in str(raised.value)
    assert raised.value.exit_code > 1
    assert is_stored(garbage.checksum, "pdf")


def test_it_refuses_to_run_without_sources(make_channel, settings):
    make_channel("maths")
    settings.STORAGE_REFERENCE_SOURCES = []
    with pytest.raises(NoReferenceSourcesError):
        collect_garbage(now=two_days_ahead())
    assert StoredFile.objects.count() > 0


def test_a_file_stored_while_the_collector_marks_is_not_deleted(make_channel):
    """An upload finishing during the mark: not in the snapshot, so never a candidate, even
    with no grace period at all. Old garbage in the same run is deleted."""
    make_channel("maths")
    garbage = put_file(b"old garbage", "pdf")
    landed: list[str] = []

    def upload_finishes(call: int) -> None:
        if call == 1:
            landed.append(put_file(b"a video that just finished uploading", "mp4").checksum)

    uploads = ScriptedSource([set()], during_call=upload_finishes)
    report = collect_garbage(grace=0, now=two_days_ahead(),
                             sources=[ChannelReferenceSource(), uploads])

    assert is_stored(landed[0], "mp4")
    assert not is_stored(garbage.checksum, "pdf")
    assert [item.checksum for item in report.deleted] == [garbage.checksum]


def test_a_file_referenced_after_the_mark_is_kept(make_channel):
    """A publish re-uses an old unreferenced file while the collector marks: the confirming
    second ask sees the new reference before anything is deleted."""
    maths = make_channel("maths")
    reused = put_file(b"old file, published again", "pdf")
    garbage = put_file(b"really garbage", "pdf")
    drafts = ScriptedSource([set(), {reused.checksum}])

    report = collect_garbage(now=two_days_ahead(), sources=[ChannelReferenceSource(), drafts])

    assert drafts.calls == 2
    assert is_stored(reused.checksum, "pdf")
    assert not is_stored(garbage.checksum, "pdf")
    assert report.referenced == len(channel_checksums(maths.channel_id)) + 1


def test_a_file_rewritten_during_the_mark_is_kept(make_channel):
    make_channel("maths")
    rewritten = put_file(b"rewritten by an import", "pdf")
    os.utime(rewritten.path, (1_000_000, 1_000_000))

    def import_touches(call: int) -> None:
        os.utime(rewritten.path, None)

    report = collect_garbage(now=two_days_ahead(),
                             sources=[ChannelReferenceSource(),
                                      ScriptedSource([set()], during_call=import_touches)])

    assert is_stored(rewritten.checksum, "pdf")
    assert report.changed == 1 and report.deleted == []


def test_temp_files_of_uploads_in_flight_are_never_touched(make_channel, content_dir):
    make_channel("maths")
    in_flight = content_dir / "tmp" / "put-abc123.part"
    in_flight.write_bytes(b"half an upload")
    os.utime(in_flight, (1_000_000, 1_000_000))
    stray = content_dir / "storage" / "put-def456.part"
    stray.write_bytes(b"not a stored name")

    collect_garbage(grace=0, now=two_days_ahead())

    assert in_flight.read_bytes() == b"half an upload"
    assert stray.exists()  # not a stored file name: verifystorage reports it, gc leaves it


def test_one_collector_at_a_time(make_channel, content_dir):
    make_channel("maths")
    garbage = put_file(b"garbage", "pdf")
    with maintenance_lock():
        assert (content_dir / "locks" / "gc.lock").exists()
        started = time.monotonic()
        with pytest.raises(StorageBusyError) as raised:
            collect_garbage(now=two_days_ahead(), wait_seconds=0.3)
        assert time.monotonic() - started >= 0.3
        assert raised.value.exit_code == 7 and "gc.lock" in str(raised.value)
        assert is_stored(garbage.checksum, "pdf")
    collect_garbage(now=two_days_ahead())
    assert not is_stored(garbage.checksum, "pdf")


def test_a_collector_that_never_deletes_would_fail_these_tests(make_channel, monkeypatch):
    """Guard against a vacuous pass: with the delete step disabled, the first test fails."""
    import storage.gc as gc_module

    monkeypatch.setattr(gc_module, "_sweep", lambda batch, report: None)
    with pytest.raises(AssertionError):
        test_it_deletes_unreferenced_files_and_keeps_the_channels(make_channel)

