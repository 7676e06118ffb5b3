"""Export to a drive: Kolibri's layout and manifest, skipped files, verified copies, the
database last, free space, FAT32's 4 GiB limit, a full drive, and handles closed at the end."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from channels.transfer import export as export_module
from channels.transfer.disk import (
    export_channel_to_disk,
    export_content_to_disk,
    list_drive_channels,
)
from channels.transfer.drives import filesystem_type
from channels.transfer.manifest import channel_list_hash
from routers.registry import channel_database_path
from storage.paths import storage_path
from tests.channels.transfer.helpers import run

pytestmark = pytest.mark.django_db


def _data(drive: Path) -> Path:
    return drive / "KOLIBRI_DATA" / "content"


def _drive_files(drive: Path) -> list[Path]:
    return sorted(path for path in (_data(drive) / "storage").rglob("*") if path.is_file())


def _topics(database: Path) -> list[str]:
    connection = sqlite3.connect(database)
    try:
        return [row[0] for row in connection.execute(
            "SELECT id FROM content_contentnode WHERE level = 1 ORDER BY lft")]
    finally:
        connection.close()


def test_exportcontent_writes_kolibris_layout_and_manifest(make_channel, drive):
    build = make_channel("maths")
    code, out, _err = run("exportcontent", build.channel_id, str(drive))
    assert code == 0 and "Exported 6 file(s)" in out
    for path in _drive_files(drive):
        checksum, extension = path.name.split(".")
        assert path.relative_to(_data(drive) / "storage").as_posix() == \
            f"{checksum[0]}/{checksum[1]}/{checksum}.{extension}"
        assert hashlib.md5(path.read_bytes()).hexdigest() == checksum
    assert len(_drive_files(drive)) == 6
    database = _data(drive) / "databases" / f"{build.channel_id}.sqlite3"
    assert database.read_bytes() == channel_database_path(build.channel_id).read_bytes()
    manifest = json.loads((_data(drive) / "manifest.json").read_text())
    root_id = sqlite3.connect(database).execute(
        "SELECT root_id FROM content_channelmetadata").fetchone()[0]
    assert manifest["channels"] == [
        {"id": build.channel_id, "version": build.version, "include_node_ids": [root_id]}]
    assert manifest["channel_list_hash"] == hashlib.md5(
        json.dumps(manifest["channels"], sort_keys=True).encode()).hexdigest()
    assert manifest["channel_list_hash"] == channel_list_hash(manifest["channels"])
    assert not list(drive.rglob("*.partial"))


def test_partial_exports_are_merged_in_the_manifest(make_channel, drive):
    maths = make_channel("maths")
    history = make_channel("history", topics=3)
    first, second, third = _topics(history.path)
    export_content_to_disk(maths.channel_id, drive)
    result = export_content_to_disk(history.channel_id, drive, node_ids=[first])
    assert result.copied == 3
    entries = {entry["id"]: entry for entry in
               json.loads((_data(drive) / "manifest.json").read_text())["channels"]}
    assert entries[history.channel_id]["include_node_ids"] == [first]
    assert maths.channel_id in entries  # the other channel is kept
    export_content_to_disk(history.channel_id, drive, node_ids=[second, third],
                           exclude_node_ids=[_first_leaf(history.path, third)])
    entries = {entry["id"]: entry for entry in
               json.loads((_data(drive) / "manifest.json").read_text())["channels"]}
    included = entries[history.channel_id]["include_node_ids"]
    assert first in included and second in included and third not in included
    assert len(included) == 4  # two whole topics and the two leaves left of the third
    assert {item.id: item.partial for item in list_drive_channels(drive)} == {
        maths.channel_id: False, history.channel_id: True}


def _first_leaf(database: Path, topic: str) -> str:
    connection = sqlite3.connect(database)
    try:
        return connection.execute("SELECT id FROM content_contentnode WHERE parent_id = ? "
                                  "ORDER BY lft LIMIT 1", (topic,)).fetchone()[0]
    finally:
        connection.close()


def test_files_already_on_the_drive_with_the_right_size_are_skipped(make_channel, drive):
    build = make_channel("maths")
    export_content_to_disk(build.channel_id, drive)
    shortened = _drive_files(drive)[0]
    shortened.write_bytes(shortened.read_bytes()[:-1])
    result = export_content_to_disk(build.channel_id, drive)
    assert (result.copied, result.already_on_drive) == (1, 5)
    assert hashlib.md5(shortened.read_bytes()).hexdigest() == shortened.name.split(".")[0]


def test_an_interrupted_export_shows_no_channel_and_a_rerun_finishes(make_channel, drive):
    build = make_channel("maths")

    class CtrlCAfterTwoFiles:
        def update(self, stage: str, done: int, total: int) -> None:
            if stage == "files" and done == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_content_to_disk(build.channel_id, drive, progress=CtrlCAfterTwoFiles())
    assert len(_drive_files(drive)) == 2
    assert list_drive_channels(drive) == []  # no database: no half channel
    result = export_content_to_disk(build.channel_id, drive)
    assert (result.copied, result.already_on_drive) == (4, 2)
    assert [item.id for item in list_drive_channels(drive)] == [build.channel_id]


def test_exportchannel_writes_only_the_database(make_channel, drive):
    build = make_channel("maths")
    code, _out, err = run("exportchannel", build.channel_id, str(drive / "KOLIBRI_DATA"))
    assert code == 3 and "no such drive" in err  # a KOLIBRI_DATA path must exist
    drive_data = drive / "KOLIBRI_DATA"
    drive_data.mkdir(exist_ok=True)
    code, out, _err = run("exportchannel", build.channel_id, str(drive_data))
    assert code == 0 and "Exported the database" in out
    assert (_data(drive) / "databases" / f"{build.channel_id}.sqlite3").is_file()
    assert _drive_files(drive) == [] and not (_data(drive) / "manifest.json").exists()


def test_unknown_channels_and_drives_exit_3(make_channel, drive, tmp_path):
    build = make_channel("maths")
    assert run("exportchannel", "e" * 32, str(drive))[0] == 3
    code, _out, err = run("exportcontent", build.channel_id, str(tmp_path / "unplugged"))
    assert code == 3 and "is it mounted" in err


def test_too_little_room_on_the_drive_exits_5_and_copies_nothing(make_channel, drive,
                                                                  monkeypatch):
    build = make_channel("maths")
    monkeypatch.setattr(export_module, "free_space", lambda path: 100)
    code, _out, err = run("exportcontent", build.channel_id, str(drive))
    assert code == 5 and "not enough space on" in err and "free at least" in err
    assert _drive_files(drive) == []


def test_a_file_over_4_gib_on_fat32_is_named_and_nothing_is_copied(make_channel, drive,
                                                                    monkeypatch):
    build = make_channel("maths")
    connection = sqlite3.connect(build.path)
    checksum, extension = connection.execute(
        "SELECT id, extension FROM content_localfile ORDER BY id LIMIT 1").fetchone()
    connection.close()
    huge = storage_path(checksum, extension)
    os.truncate(huge, 4 * 1024 ** 3)  # sparse: no real 4 GiB written
    monkeypatch.setattr("channels.transfer.drives.filesystem_type", lambda path: "vfat")
    code, _out, err = run("exportcontent", build.channel_id, str(drive))
    assert code == 5 and f"{checksum}.{extension}" in err and "FAT32" in err
    assert _drive_files(drive) == [] and not list(drive.rglob("*.partial"))


def test_a_drive_that_fills_up_mid_copy_exits_5_and_leaves_no_partial_file(make_channel, drive,
                                                                           monkeypatch):
    build = make_channel("maths")
    real_open = open
    opened_for_writing = []

    class FullDrive:
        def __init__(self, handle) -> None:
            self.handle = handle

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc_info: object) -> None:
            self.handle.close()

    def drive_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        if mode == "wb":
            opened_for_writing.append(path)
            if len(opened_for_writing) == 3:
                return FullDrive(handle)
        return handle

    monkeypatch.setattr(export_module, "open", drive_open, raising=False)
    code, _out, err = run("exportcontent", build.channel_id, str(drive))
    assert code == 5 and "is full" in err
    assert len(_drive_files(drive)) == 2 and not list(drive.rglob("*.partial"))
    assert list_drive_channels(drive) == []


def test_a_damaged_stored_copy_is_reported_and_not_exported(make_channel, drive):
    build = make_channel("maths")
    connection = sqlite3.connect(build.path)
    checksum, extension = connection.execute(
        "SELECT id, extension FROM content_localfile ORDER BY id LIMIT 1").fetchone()
    connection.close()
    damaged = storage_path(checksum, extension)
    damaged.write_bytes(damaged.read_bytes()[::-1])
    code, out, err = run("exportcontent", build.channel_id, str(drive))
    assert code == 4 and "1 failed" in out and "verifystorage --repair" in err
    assert len(_drive_files(drive)) == 5
    assert [item.id for item in list_drive_channels(drive)] == [build.channel_id]


def test_every_handle_to_the_drive_is_closed_at_the_end(make_channel, drive):
    build = make_channel("maths")
    export_content_to_disk(build.channel_id, drive)
    export_channel_to_disk(build.channel_id, drive)
    list_drive_channels(drive)
    drive_root = os.path.realpath(drive)
    open_on_drive = []
    for descriptor in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith(drive_root):
            open_on_drive.append(target)
    assert open_on_drive == []


def test_the_file_system_type_is_read_from_the_mount_table():
    assert filesystem_type(Path("/")) != ""
    assert filesystem_type(Path("/proc/self")) == "proc"
