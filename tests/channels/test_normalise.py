"""Older channel databases become a normalised copy in the current schema; drives carrying them
import through the real `importchannel disk` path, and the drive's file is never modified."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from channels.checks import check_channel_database
from channels.errors import InvalidChannelDatabaseError
from channels.normalise import normalise_database, normalised_copy, schema_of
from channels.schema_versions import CURRENT
from channels.transfer.disk import list_drive_channels
from tests.channels.test_schema_versions import SHAPES, old_shape, rewrite
from tests.channels.transfer import conftest as transfer
from tests.channels.transfer.conftest import temp_entries
from tests.channels.transfer.helpers import run
from tests.channels.transfer.stub_peer import StubPeer

# The drive fixtures of the transfer tests: a channel exported to a drive, a second server.
drive, exported, second_server = transfer.drive, transfer.exported, transfer.second_server

pytestmark = pytest.mark.django_db
NODE_COLUMNS = "id, parent_id, content_id, title, kind, lft, rght, tree_id, level, sort_order"


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def rows(path: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.fixture
def built(make_channel, tmp_path):
    result = make_channel("old", topics=2, leaves=2)
    original = tmp_path / "original.sqlite3"
    shutil.copyfile(result.path, original)
    return result.channel_id, original


@pytest.mark.parametrize("name", list(SHAPES))
def test_an_older_file_is_normalised_into_the_current_schema(built, tmp_path, name):
    channel_id, original = built
    old = tmp_path / "old.sqlite3"
    shutil.copyfile(original, old)
    old_shape(old, name)
    before = md5(old)
    with normalised_copy(old) as copy:
        assert copy != old
        assert schema_of(copy).name == CURRENT
        info = check_channel_database(copy, channel_id)
        assert (info.node_count, info.min_schema_version) == (7, "1")
        # The tree and the files are those of the original, row for row.
        for sql in (f"SELECT {NODE_COLUMNS} FROM content_contentnode ORDER BY id",
                    "SELECT id, contentnode_id, local_file_id, preset, supplementary, "
                    "thumbnail, priority, checksum, extension, file_size FROM content_file "
                    "ORDER BY id",
                    "SELECT id, extension, file_size FROM content_localfile ORDER BY id",
                    "SELECT id, root_id, root_pk, name, version FROM content_channelmetadata"):
            assert rows(copy, sql) == rows(original, sql), sql
        # Derived as Kolibri derives them.
        assert rows(copy, "SELECT DISTINCT channel_id FROM content_contentnode") == \
            [(channel_id,)]
        # Before schema 5 the activity is derived from the kind; in 5 it is the file's own.
        activity = None if name == "5" else "wA01urpi"
        assert rows(copy, "SELECT DISTINCT learning_activities FROM content_contentnode "
                          "WHERE kind = 'document'") == [(activity,)]
        if name in ("unversioned", "v0.4.0-beta3", "v0.2.0-beta1"):
            assert rows(copy, "SELECT DISTINCT license_name FROM content_contentnode "
                              "WHERE kind = 'document'") == [("CC BY",)]
        # Columns the old file lacks get the model's default.
        assert rows(copy, "SELECT DISTINCT coach_content, options FROM content_contentnode") \
            == [(0, "{}")]
        assert rows(copy, "PRAGMA journal_mode") == [("delete",)]
    assert not copy.exists()
    assert md5(old) == before  # the older file is only read


def test_a_current_file_is_used_as_it_is(built):
    _channel_id, original = built
    with normalised_copy(original) as same:
        assert same == original
    assert original.exists()


def test_a_file_fitting_no_schema_is_not_normalised(built, tmp_path):
    _channel_id, original = built
    rewrite(original, ("content_contentnode_tags",))
    with pytest.raises(InvalidChannelDatabaseError, match="table content_contentnode_tags"):
        with normalised_copy(original):
            pass
    with pytest.raises(InvalidChannelDatabaseError, match="fits no content schema"):
        normalise_database(original, tmp_path / "out.sqlite3", schema_of(original))


def drive_database(exported_drive) -> Path:
    return exported_drive.data / "databases" / f"{exported_drive.channel_id}.sqlite3"


@pytest.mark.parametrize("name", ["5", "3", "unversioned", "v0.2.0-beta1"])
def test_a_drive_in_an_older_schema_imports_through_importchannel_disk(exported, second_server,
                                                                       client, name):
    on_drive = drive_database(exported)
    old_shape(on_drive, name)
    drive_md5 = md5(on_drive)
    second = second_server()
    listed = {item.id: item for item in list_drive_channels(exported.drive)}
    assert listed[exported.channel_id].problem == ""
    assert listed[exported.channel_id].node_count == exported.build.node_count
    code, out, err = run("importchannel", "disk", exported.channel_id, str(exported.drive))
    assert code == 0 and "Installed channel" in out, err
    served = second / "databases" / f"{exported.channel_id}.sqlite3"
    assert schema_of(served).name == CURRENT
    code, out, err = run("importcontent", "disk", exported.channel_id, str(exported.drive))
    assert code == 0 and "Imported 6 file(s)" in out, err
    nodes = client.get(f"/api/content/{exported.channel_id}/contentnode/?page_size=100").json()
    assert nodes["count"] == exported.build.node_count
    assert all(node["available"] for node in nodes["results"])
    assert md5(on_drive) == drive_md5
    assert temp_entries(second) == []


def test_a_drive_with_extra_tables_and_columns_imports_unchanged(exported, second_server):
    on_drive = drive_database(exported)
    connection = sqlite3.connect(on_drive)
    connection.execute("CREATE TABLE content_studio6_extra (id INTEGER PRIMARY KEY, note TEXT)")
    connection.execute("ALTER TABLE content_contentnode ADD COLUMN studio6_note TEXT")
    connection.commit()
    connection.close()
    second = second_server()
    code, out, err = run("importchannel", "disk", exported.channel_id, str(exported.drive))
    assert code == 0 and "Installed channel" in out, err
    served = second / "databases" / f"{exported.channel_id}.sqlite3"
    assert md5(served) == md5(on_drive)  # current already: the file is installed as it is


@pytest.mark.parametrize("damage,message", [
    ("DROP TABLE content_contenttag", "missing table content_contenttag"),
    ("UPDATE content_channelmetadata SET min_schema_version = '999'",
     "min_schema_version is '999'"),
])
def test_a_drive_file_we_cannot_read_is_refused_with_what_is_wrong(exported, second_server,
                                                                   damage, message):
    on_drive = drive_database(exported)
    connection = sqlite3.connect(on_drive)
    connection.execute(damage)
    connection.commit()
    connection.close()
    second = second_server()
    listed = {item.id: item for item in list_drive_channels(exported.drive)}
    assert message in listed[exported.channel_id].problem
    code, _out, err = run("importchannel", "disk", exported.channel_id, str(exported.drive))
    assert code == 4 and message in err
    assert not (second / "databases" / f"{exported.channel_id}.sqlite3").exists()
    assert temp_entries(second) == []


def test_a_large_old_file_normalises_in_one_pass(built, tmp_path):
    """50,000 nodes in Kolibri's unversioned shape; the time is printed, not asserted."""
    channel_id, original = built
    big = tmp_path / "big.sqlite3"
    shutil.copyfile(original, big)
    connection = sqlite3.connect(big)
    root_id, root_rght = connection.execute(
        "SELECT id, rght FROM content_contentnode WHERE parent_id IS NULL").fetchone()
    count = 50_000
    # Leaves under the root after the existing nodes, each with one file of its own.
    connection.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1) "
        "INSERT INTO content_contentnode (id, parent_id, channel_id, content_id, title, kind, "
        "license_owner, author, coach_content, available, lft, rght, tree_id, level, "
        "stemmed_metaphone) SELECT printf('%032x', i + 1000000), ?, ?, printf('%032x', i), "
        "'node ' || i, 'video', '', '', 0, 0, ? + 2 * i, ? + 2 * i + 1, 1, 1, '' FROM n",
        (count, root_id, channel_id, root_rght, root_rght))
    connection.execute("UPDATE content_contentnode SET rght = ? WHERE id = ?",
                       (root_rght + 2 * count, root_id))
    connection.execute(
        "INSERT INTO content_file (id, contentnode_id, local_file_id, preset, supplementary, "
        "thumbnail, checksum, extension, file_size, available) SELECT 'f' || substr(id, 2), "
        "id, 'c' || substr(id, 2), 'high_res_video', 0, 0, 'c' || substr(id, 2), 'mp4', 1000, 0 "
        "FROM content_contentnode WHERE kind = 'video'")
    connection.commit()
    connection.close()
    old_shape(big, "unversioned")
    size = big.stat().st_size
    started = time.perf_counter()
    shutil.copyfile(big, tmp_path / "plain-copy.sqlite3")
    copied = time.perf_counter()
    with normalised_copy(big) as copy:
        normalised = time.perf_counter()
        info = check_channel_database(copy, channel_id)
        checked = time.perf_counter()
        assert info.node_count == count + 7
        assert rows(copy, "SELECT COUNT(*) FROM content_localfile") == [(count + 4,)]
    print(f"\n{count} nodes, {size / 1e6:.1f} MB unversioned file: copy "
          f"{copied - started:.2f} s, detect + normalise {normalised - copied:.2f} s, "
          f"check of the copy {checked - normalised:.2f} s")


class PeerWithDatabase(StubPeer):
    """The stand-in peer of the network tests, also serving one channel database."""

    def __init__(self, channel: dict, storage_dir: Path, database: Path) -> None:
        super().__init__(channel, storage_dir, hold=None)
        self.database = database

    def answer(self, handler) -> None:
        if handler.path == f"/content/databases/{self.channel['id']}.sqlite3":
            self._send(handler, handler.path, None, 200, self.database.read_bytes())
            return
        super().answer(handler)


def test_a_peer_offering_an_older_schema_file_imports_through_importchannel_network(
        exported, second_server):
    on_peer = drive_database(exported)
    old_shape(on_peer, "v0.4.0-beta3")
    peer_md5 = md5(on_peer)
    second = second_server()
    channel = {"id": exported.channel_id, "name": "Maths", "version": exported.build.version}
    with PeerWithDatabase(channel, exported.data / "storage", on_peer) as peer:
        code, out, err = run("importchannel", "network", exported.channel_id, peer.url)
        assert code == 0 and "Installed channel" in out, err
        code, out, err = run("importcontent", "network", exported.channel_id, peer.url)
        assert code == 0 and "Imported 6 file(s)" in out, err
    served = second / "databases" / f"{exported.channel_id}.sqlite3"
    assert schema_of(served).name == CURRENT
    assert check_channel_database(served, exported.channel_id).node_count == \
        exported.build.node_count
    assert md5(on_peer) == peer_md5 and temp_entries(second) == []
