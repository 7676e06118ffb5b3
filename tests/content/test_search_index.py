"""The life of search index files: built when a version is made current (publish, import,
revert), kept per version, rebuilt at start-up when missing, removed with the channel, never
half-built, and never a write into a served channel file."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from channels.services import scan_channels
from channels.versions import delete_channel, revert_channel, version_database_path
from content.search.index import (
    SearchIndexError,
    build_search_index,
    search_index_dir,
    search_index_path,
)
from routers.registry import channel_database_path
from tests.content.test_search_helpers import leaf, search, titles, tree

pytestmark = pytest.mark.django_db
CHANNEL_ID = "c" * 32


def indexed_titles(channel_id: str, version: int) -> set[str]:
    connection = sqlite3.connect(f"file:{search_index_path(channel_id, version)}?mode=ro",
                                 uri=True)
    try:
        return {row[0] for row in connection.execute("SELECT title FROM node_search")}
    finally:
        connection.close()


@pytest.fixture
def two_versions(make_channel):
    """Version 1 has "Old lesson", version 2 (current) has "New lesson"."""
    make_channel("history", channel_id=CHANNEL_ID, root=tree("history", leaf("Old lesson")))
    return make_channel("history", channel_id=CHANNEL_ID,
                        root=tree("history", leaf("New lesson")))


def test_installing_a_version_builds_its_index(make_channel):
    built = make_channel("maths", root=tree("maths", leaf("Fractions")))
    assert indexed_titles(built.channel_id, built.version) == {
        "maths root", "maths unit", "Fractions"}
    assert [path.name for path in search_index_dir(built.channel_id).iterdir()] == [
        f"{built.version}.sqlite3"]


def test_each_version_keeps_its_index_and_a_revert_serves_the_reverted_one(client,
                                                                          two_versions):
    assert "Old lesson" in indexed_titles(CHANNEL_ID, 1)
    assert "New lesson" in indexed_titles(CHANNEL_ID, 2)
    assert titles(search(client, q="lesson")) == ["New lesson"]
    revert_channel(CHANNEL_ID, 1)
    assert titles(search(client, q="lesson")) == ["Old lesson"]
    revert_channel(CHANNEL_ID, 2)
    assert titles(search(client, q="lesson")) == ["New lesson"]


def test_deleting_a_channel_removes_its_indexes(client, two_versions, make_channel):
    other = make_channel("other", root=tree("other", leaf("Other lesson")))
    delete_channel(CHANNEL_ID)
    assert not search_index_dir(CHANNEL_ID).exists()
    assert search_index_path(other.channel_id, other.version).is_file()
    assert titles(search(client, q="lesson")) == ["Other lesson"]


def test_start_up_indexes_channels_installed_before_search(client, make_channel):
    built = make_channel("maths", root=tree("maths", leaf("Fractions")))
    search_index_path(built.channel_id, built.version).unlink()
    report = scan_channels()
    assert built.channel_id in report.unchanged
    assert search_index_path(built.channel_id, built.version).is_file()
    assert titles(search(client, q="fractions")) == ["Fractions"]


def test_a_missing_index_is_built_by_the_first_search(client, make_channel):
    built = make_channel("maths", root=tree("maths", leaf("Fractions")))
    search_index_path(built.channel_id, built.version).unlink()
    assert titles(search(client, q="fractions")) == ["Fractions"]
    assert search_index_path(built.channel_id, built.version).is_file()


def test_an_index_of_another_format_is_rebuilt_at_start_up(make_channel):
    built = make_channel("maths", root=tree("maths", leaf("Fractions")))
    path = search_index_path(built.channel_id, built.version)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 999")
    connection.commit()
    connection.close()
    scan_channels()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert connection.execute("PRAGMA user_version").fetchone()[0] != 999
    connection.close()


def test_building_never_writes_the_served_channel_file(make_channel):
    built = make_channel("maths", root=tree("maths", leaf("Fractions")))
    served = channel_database_path(built.channel_id)
    before = (hashlib.md5(served.read_bytes()).hexdigest(), served.stat().st_mtime_ns)
    search_index_path(built.channel_id, built.version).unlink()
    scan_channels()
    assert (hashlib.md5(served.read_bytes()).hexdigest(), served.stat().st_mtime_ns) == before
    assert not served.with_name(served.name + "-journal").exists()


def test_a_failed_build_leaves_no_index_file(make_channel, tmp_path):
    built = make_channel("maths", root=tree("maths", leaf("Fractions")))
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database" * 100)
    with pytest.raises(SearchIndexError):
        build_search_index(built.channel_id, 7, broken)
    assert sorted(path.name for path in search_index_dir(built.channel_id).iterdir()) == [
        f"{built.version}.sqlite3"]


def test_the_index_is_built_from_the_version_file(two_versions):
    # A rebuild of version 1 reads version 1's kept file, whatever the served file holds.
    search_index_path(CHANNEL_ID, 1).unlink()
    build_search_index(CHANNEL_ID, 1, version_database_path(CHANNEL_ID, 1))
    assert "Old lesson" in indexed_titles(CHANNEL_ID, 1)


def test_a_channel_no_longer_served_has_its_index_connection_closed(client, make_channel):
    from channels.services import reject_channel
    from content.search.query import _connections

    kept = make_channel("kept", root=tree("kept", leaf("Lesson kept")))
    gone = make_channel("gone", root=tree("gone", leaf("Lesson gone")))
    assert sorted(titles(search(client, q="lesson"))) == ["Lesson gone", "Lesson kept"]
    assert {channel_id for channel_id, _version in _connections()} == {
        kept.channel_id, gone.channel_id}
    reject_channel(gone.channel_id, channel_database_path(gone.channel_id), "broken")
    assert titles(search(client, q="lesson")) == ["Lesson kept"]
    # The test client runs requests in this thread: its connections are the ones checked.
    assert list(_connections()) == [(kept.channel_id, kept.version)]
