"""The channels' reference source: every kept version's files, plus what served files name."""

from __future__ import annotations

import sqlite3

import pytest

from channels.models import Channel, ChannelVersionFile
from channels.references import (
    ChannelReferenceSource,
    ServedFileUnreadableError,
    served_file_checksums,
)
from channels.versions import delete_channel, revert_channel
from storage.references import ReferenceSource, reference_sources
from tests.conftest import small_tree

pytestmark = pytest.mark.django_db


def version_checksums(channel_id: str, number: int) -> set[str]:
    return set(ChannelVersionFile.objects.filter(version__channel_id=channel_id,
                                                 version__number=number)
               .values_list("checksum", flat=True))


def local_file_ids(path) -> set[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM content_localfile")}


def test_it_is_a_configured_source():
    sources = reference_sources()
    assert [source.name for source in sources] == ["channels", "drafts"]
    assert all(isinstance(source, ReferenceSource) for source in sources)


def test_it_references_every_file_of_every_kept_version(make_channel):
    first = make_channel("maths")
    make_channel("maths", channel_id=first.channel_id, root=small_tree("algebra"))
    science = make_channel("science")
    old, new = version_checksums(first.channel_id, 1), version_checksums(first.channel_id, 2)
    assert old and new and old.isdisjoint(new)

    referenced = ChannelReferenceSource().referenced_checksums()

    assert old | new | version_checksums(science.channel_id, 1) == referenced
    assert local_file_ids(first.path) == new  # the served file names only the current version


def test_a_deleted_channel_references_nothing(make_channel):
    maths, science = make_channel("maths"), make_channel("science")
    delete_channel(maths.channel_id)
    assert ChannelReferenceSource().referenced_checksums() == version_checksums(
        science.channel_id, 1)


def test_served_files_count_even_without_version_rows(make_channel):
    maths = make_channel("maths")
    expected = local_file_ids(maths.path)
    ChannelVersionFile.objects.all().delete()
    assert ChannelReferenceSource().referenced_checksums() == expected
    assert served_file_checksums() == expected


def test_an_unreadable_served_file_stops_the_collector(make_channel, content_dir):
    make_channel("maths")
    dropped = content_dir / "databases" / ("c" * 32 + ".sqlite3")
    dropped.write_bytes(b"half a copy of a channel database")

    with pytest.raises(ServedFileUnreadableError) as raised:
        ChannelReferenceSource().referenced_checksums()
    assert str(dropped) in str(raised.value)


def test_a_rejected_unreadable_file_keeps_nothing_alive(make_channel, content_dir):
    maths = make_channel("maths")
    dropped = content_dir / "databases" / ("c" * 32 + ".sqlite3")
    dropped.write_bytes(b"not a database at all")
    Channel.objects.create(id="c" * 32, name="broken", state=Channel.State.REJECTED)
    assert ChannelReferenceSource().referenced_checksums() == version_checksums(
        maths.channel_id, 1)


def test_other_names_in_the_databases_folder_are_ignored(make_channel, content_dir):
    maths = make_channel("maths")
    (content_dir / "databases" / ".swap-x.sqlite3").write_bytes(b"junk")
    (content_dir / "databases" / "notes.sqlite3").write_bytes(b"junk")
    assert served_file_checksums() == version_checksums(maths.channel_id, 1)


def test_it_says_which_versions_use_a_file(make_channel):
    first = make_channel("maths")
    make_channel("maths", channel_id=first.channel_id, root=small_tree("algebra"))
    revert_channel(first.channel_id, 1)
    old_file = sorted(version_checksums(first.channel_id, 1))[0]
    new_file = sorted(version_checksums(first.channel_id, 2))[0]

    described = ChannelReferenceSource().describe_references(
        {old_file, new_file, "f" * 32, "not-a-checksum"})

    assert described == {
        old_file: [f"channel Maths ({first.channel_id}) version 1, current"],
        new_file: [f"channel Maths ({first.channel_id}) version 2"],
    }
