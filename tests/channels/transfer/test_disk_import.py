"""Import from a drive: a round trip onto a fresh server, the checks a database passes, the
version rule, and every failure of issue 3 with its exit code and a re-run that resumes."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from channels.models import Channel, ChannelVersion, ContentImport
from channels.transfer import disk as disk_module
from channels.transfer.disk import import_content_from_disk, list_drive_channels
from channels.transfer.imports import resume_import, unfinished_imports
from channels.transfer.locking import import_lock
from storage.models import StoredFile
from tests.channels.transfer.conftest import (
    FailingReader,
    stored_files,
    table_rows,
    temp_entries,
)
from tests.channels.transfer.helpers import run

pytestmark = pytest.mark.django_db
CONTENT_TABLES = ("content_channelmetadata", "content_contentnode", "content_file",
                  "content_localfile")


def test_a_channel_moves_to_a_fresh_server_with_the_same_nodes_and_files(exported,
                                                                         second_server, client):
    source_database = exported.source_content / "databases" / f"{exported.channel_id}.sqlite3"
    second = second_server()
    code, out, _err = run("importchannel", "disk", exported.channel_id, str(exported.drive),
                          "--full")
    assert code == 0 and "Installed channel" in out
    code, out, _err = run("importcontent", "disk", exported.channel_id, str(exported.drive))
    assert code == 0 and "Imported 6 file(s)" in out
    served = second / "databases" / f"{exported.channel_id}.sqlite3"
    for table in CONTENT_TABLES:
        assert table_rows(served, table) == table_rows(source_database, table)
    assert stored_files(second) == stored_files(exported.source_content)
    version = ChannelVersion.objects.get(channel_id=exported.channel_id)
    assert version.number == exported.build.version
    assert version.source == f"drive {exported.drive}"
    assert ContentImport.objects.get().state == ContentImport.State.DONE
    nodes = client.get(f"/api/content/{exported.channel_id}/contentnode/?page_size=100").json()
    assert nodes["count"] == exported.build.node_count
    assert all(node["available"] for node in nodes["results"])
    assert temp_entries(second) == []


def test_a_drive_given_as_its_kolibri_data_folder_in_any_case_works(exported, second_server):
    renamed = exported.drive / "kolibri_data"
    (exported.drive / "KOLIBRI_DATA").rename(renamed)
    second_server()
    assert run("importchannel", "disk", exported.channel_id, str(renamed))[0] == 0
    assert run("importcontent", "disk", exported.channel_id, str(exported.drive))[0] == 0
    assert StoredFile.objects.count() == 6


def test_a_missing_drive_or_channel_exits_3(exported, second_server, tmp_path):
    second_server()
    code, _out, err = run("importchannel", "disk", exported.channel_id, str(tmp_path / "nope"))
    assert code == 3 and "no such drive" in err
    code, _out, err = run("importchannel", "disk", "a" * 32, str(exported.drive))
    assert code == 3 and "is not on drive" in err
    code, _out, err = run("importcontent", "disk", exported.channel_id, str(exported.drive))
    assert code == 3 and "importchannel disk" in err  # the database comes first
    code, _out, err = run("importchannel", "disk", "A" * 32, str(exported.drive))
    assert code == 2 and "not a channel id" in err


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2 + 100]))
    elif how == "header":
        data[0:16] = b"not a database!!"
        path.write_bytes(bytes(data))
    else:  # a b-tree page's header: the kind of page and its cell pointers
        for page in range(1, len(data) // page_size):
            data[page * page_size: page * page_size + 12] = b"\xff" * 12
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "header", "btree"])
def test_a_corrupt_database_exits_4_and_installs_nothing(exported, second_server, how):
    _damage(exported.data / "databases" / f"{exported.channel_id}.sqlite3", how)
    second = second_server()
    code, _out, err = run("importchannel", "disk", exported.channel_id, str(exported.drive))
    assert code == 4 and "corrupt or foreign channel database" in err
    assert not Channel.objects.exists() and not ChannelVersion.objects.exists()
    assert list((second / "databases").glob("*.sqlite3")) == []
    assert temp_entries(second) == []
    listed = list_drive_channels(exported.drive)
    assert [item.problem != "" for item in listed] == [True]


def test_a_database_holding_another_channel_exits_4(exported, second_server):
    other = "b" * 32
    databases = exported.data / "databases"
    shutil.copy(databases / f"{exported.channel_id}.sqlite3", databases / f"{other}.sqlite3")
    second_server()
    code, _out, err = run("importchannel", "disk", other, str(exported.drive))
    assert code == 4 and f"holds channel {exported.channel_id}" in err
    assert not Channel.objects.exists()


def test_a_version_we_have_is_not_newer(exported, make_channel):
    # The drive has version 1; this server publishes version 2 of the same channel.
    code, out, _err = run("importchannel", "disk", exported.channel_id, str(exported.drive))
    assert code == 0 and "already installed" in out
    make_channel("maths", channel_id=exported.channel_id)
    assert Channel.objects.get(id=exported.channel_id).version == 2
    code, _out, err = run("importchannel", "disk", exported.channel_id, str(exported.drive))
    assert code == 7 and "not newer" in err and "revertchannel" in err
    assert Channel.objects.get(id=exported.channel_id).version == 2
    [listed] = list_drive_channels(exported.drive)
    assert (listed.version, listed.installed_version, listed.is_newer) == (1, 2, False)


def test_listchannels_disk_says_what_is_newer(exported, second_server, make_channel):
    second_server()
    code, out, _err = run("listchannels", "disk", str(exported.drive), "--json")
    [listed] = json.loads(out)
    assert (listed["id"], listed["version"], listed["installed_version"], listed["is_newer"]) \
        == (exported.channel_id, 1, None, True)
    assert listed["node_count"] == exported.build.node_count and listed["partial"] is False
    code, out, _err = run("listchannels", "disk", str(exported.drive))
    assert code == 0 and "not installed" in out and "Maths" in out
    run("importchannel", "disk", exported.channel_id, str(exported.drive))
    [listed] = json.loads(run("listchannels", "disk", str(exported.drive), "--json")[1])
    assert (listed["installed_version"], listed["is_newer"]) == (1, False)
    assert run("listchannels", "disk")[0] == 2


def test_a_damaged_or_missing_file_is_reported_and_the_others_imported(exported,
                                                                      second_server):
    files = sorted(path for path in (exported.data / "storage").rglob("*.pdf"))
    damaged, missing = files[0], files[1]
    damaged.write_bytes(damaged.read_bytes()[::-1])  # same size, other bytes
    missing.unlink()
    second = second_server()
    run("importchannel", "disk", exported.channel_id, str(exported.drive))
    code, out, err = run("importcontent", "disk", exported.channel_id, str(exported.drive))
    assert code == 4
    assert "Imported 4 file(s)" in out and "2 failed" in out
    assert f"{missing.name}: not on the drive" in err
    assert damaged.name in err and "not the expected" in err
    assert StoredFile.objects.count() == 4
    assert not (second / "storage" / damaged.relative_to(exported.data / "storage")).exists()
    assert temp_entries(second) == []
    [row] = ContentImport.objects.all()
    assert (row.state, row.files_failed) == (ContentImport.State.INCOMPLETE, 2)
    out = run("listchannels")[1]
    assert "Unfinished import" in out and f"importcontent disk {exported.channel_id}" in out


def test_a_drive_pulled_out_mid_copy_exits_6_and_a_rerun_resumes(exported, second_server,
                                                                   monkeypatch):
    second = second_server()
    run("importchannel", "disk", exported.channel_id, str(exported.drive))
    opened: list[Path] = []

    def pulled_out_at_the_third_file(path: Path):
        opened.append(path)
        if len(opened) < 3:
            return open(path, "rb")
        return FailingReader(path, 10, OSError(errno.EIO, "Input/output error"))

    monkeypatch.setattr(disk_module, "open_drive_file", pulled_out_at_the_third_file)
    code, _out, err = run("importcontent", "disk", exported.channel_id, str(exported.drive))
    assert code == 6 and "was the drive removed" in err
    assert StoredFile.objects.count() == 2 and temp_entries(second) == []
    [unfinished] = unfinished_imports()
    assert (unfinished.state, unfinished.is_running, unfinished.files_done) == (
        "interrupted", False, 2)
    assert unfinished.command.startswith(f"kolibri-like importcontent disk "
                                         f"{exported.channel_id} ")
    monkeypatch.setattr(disk_module, "open_drive_file", lambda path: open(path, "rb"))
    result = resume_import(unfinished.id)
    assert (result.already_present, result.copied) == (2, 4)
    assert unfinished_imports() == []
    assert stored_files(second) == stored_files(exported.source_content)


def test_an_unreadable_drive_file_on_open_exits_6(exported, second_server, monkeypatch):
    second_server()
    run("importchannel", "disk", exported.channel_id, str(exported.drive))

    def gone(path: Path):
        raise OSError(errno.ENODEV, "No such device")

    monkeypatch.setattr(disk_module, "open_drive_file", gone)
    assert run("importcontent", "disk", exported.channel_id, str(exported.drive))[0] == 6
    assert run("importchannel", "disk", "c" * 32, str(exported.drive))[0] == 3


class _FullDiskWriter:
    """A temp file in the store that fills the disk after `room` bytes."""

    def __init__(self, real, room: int) -> None:
        self.real, self.room = real, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.real.write(data)

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.real.close()


def test_a_full_disk_exits_5_removes_temps_and_a_rerun_resumes(exported, second_server,
                                                               monkeypatch):
    second = second_server()
    run("importchannel", "disk", exported.channel_id, str(exported.drive))
    real_fdopen = os.fdopen
    writes = []

    def fdopen(descriptor, mode="r", *args, **kwargs):
        handle = real_fdopen(descriptor, mode, *args, **kwargs)
        if mode != "wb":
            return handle
        writes.append(descriptor)
        return handle if len(writes) < 4 else _FullDiskWriter(handle, 5)

    monkeypatch.setattr(os, "fdopen", fdopen)
    code, _out, err = run("importcontent", "disk", exported.channel_id, str(exported.drive))
    monkeypatch.setattr(os, "fdopen", real_fdopen)
    assert code == 5 and "is full" in err
    assert StoredFile.objects.count() == 3 and temp_entries(second) == []
    code, out, _err = run("importcontent", "disk", exported.channel_id, str(exported.drive))
    assert code == 0 and "Imported 3 file(s)" in out and "3 already here" in out


def test_too_little_free_space_exits_5_before_copying(exported, second_server, monkeypatch):
    second_server()
    run("importchannel", "disk", exported.channel_id, str(exported.drive))
    monkeypatch.setattr("channels.transfer.base.free_space", lambda path: 1000)
    code, _out, err = run("importcontent", "disk", exported.channel_id, str(exported.drive))
    assert code == 5 and "not enough space" in err and "free at least" in err
    assert not StoredFile.objects.exists()


def test_ctrl_c_mid_copy_keeps_whole_files_and_a_rerun_resumes(exported, second_server):
    second = second_server()
    run("importchannel", "disk", exported.channel_id, str(exported.drive))

    class CtrlCAfterTwoFiles:
        def update(self, stage: str, done: int, total: int) -> None:
            if stage == "files" and done == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_content_from_disk(exported.channel_id, exported.drive,
                                 progress=CtrlCAfterTwoFiles())
    assert StoredFile.objects.count() == 2 and temp_entries(second) == []
    assert ContentImport.objects.get().state == ContentImport.State.INTERRUPTED
    result = import_content_from_disk(exported.channel_id, exported.drive)
    assert (result.copied, result.already_present) == (4, 2)
    assert ContentImport.objects.get().state == ContentImport.State.DONE  # the same row


def test_a_second_import_of_the_same_channel_exits_7(exported, second_server):
    second_server()
    with import_lock(exported.channel_id):
        code, _out, err = run("importchannel", "disk", exported.channel_id, str(exported.drive))
        assert code == 7 and "another import or export" in err
    run("importchannel", "disk", exported.channel_id, str(exported.drive))
    with import_lock(exported.channel_id):
        assert run("importcontent", "disk", exported.channel_id, str(exported.drive))[0] == 7
    assert not StoredFile.objects.exists()


def test_chosen_subtrees_import_only_their_files(exported, second_server):
    tree_db = exported.source_content / "databases" / f"{exported.channel_id}.sqlite3"
    connection = sqlite3.connect(tree_db)
    topics = [row[0] for row in connection.execute(
        "SELECT id FROM content_contentnode WHERE level = 1 ORDER BY lft")]
    leaf = connection.execute("SELECT id FROM content_contentnode WHERE parent_id = ? "
                              "ORDER BY lft LIMIT 1", (topics[1],)).fetchone()[0]
    connection.close()
    second_server()
    run("importchannel", "disk", exported.channel_id, str(exported.drive))
    code, out, _err = run("importcontent", "disk", exported.channel_id, str(exported.drive),
                          node_ids=topics[0])
    assert code == 0 and "Imported 3 file(s)" in out
    code, out, _err = run("importcontent", "disk", exported.channel_id, str(exported.drive),
                          node_ids=f"{topics[0]},{topics[1]}", exclude_node_ids=leaf)
    assert code == 0 and "Imported 2 file(s)" in out and "3 already here" in out
    code, _out, err = run("importcontent", "disk", exported.channel_id, str(exported.drive),
                          node_ids="d" * 32)
    assert code == 3 and "has no node" in err
    code, _out, _err = run("importcontent", "disk", exported.channel_id, str(exported.drive),
                           "--node-ids", "0x12")
    assert code == 2


def test_a_partial_drive_imports_what_its_manifest_lists(make_channel, drive, second_server):
    build = make_channel("history")
    connection = sqlite3.connect(build.path)
    first_topic = connection.execute("SELECT id FROM content_contentnode WHERE level = 1 "
                                     "ORDER BY lft").fetchone()[0]
    connection.close()
    assert run("exportcontent", build.channel_id, str(drive), node_ids=first_topic)[0] == 0
    second_server()
    [listed] = list_drive_channels(drive)
    assert listed.partial
    run("importchannel", "disk", build.channel_id, str(drive))
    code, out, _err = run("importcontent", "disk", build.channel_id, str(drive))
    assert code == 0 and "Imported 3 file(s)" in out and "3 not on this partial drive" in out
