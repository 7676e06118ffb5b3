"""Imports from a drive and exports to one, in real processes, meeting an injected I/O fault
(tests/faults/inject): the drive pulled out mid-read (EIO, ENODEV), our disk full (ENOSPC) or
failing (EIO) mid-write. Each must exit with its code (INTERFACE.md: 5 disk full, 6 I/O) and a
message saying what happened, within 30 s, leave no temp file, keep every verified file and
what was served, pass `checkinvariants`, and complete when run again without the fault.
"""

from __future__ import annotations

import json

from pathlib import Path

import pytest

from tests.faults.homes import FaultHome, drive_files, manifest_claims_missing

pytestmark = pytest.mark.server

READ_FAILS = "cannot read from drive"
WRITE_FAILS = "cannot write to"
FULL = "is full; free some space and run again"


def channel_state(home: FaultHome, channel_id: str) -> tuple[list, list]:
    channels = home.rows(f"SELECT version, state FROM channels_channel WHERE id = '{channel_id}'")
    versions = home.rows("SELECT number FROM channels_channelversion WHERE channel_id = "
                         f"'{channel_id}' ORDER BY number")
    return channels, [number for (number,) in versions]


def in_temp(home: FaultHome) -> str:
    return f"{home.content_dir}/tmp/"


# importchannel disk ------------------------------------------------------------------------

@pytest.mark.parametrize("op, error, exit_code, says", [
    ("read", "EIO", 6, READ_FAILS),
    ("write", "ENOSPC", 5, FULL),
    ("fsync", "EIO", 6, WRITE_FAILS),
])
def test_an_importchannel_of_a_newer_version_meeting(op, error, exit_code, says, prepared,
                                                      copy_home):
    channel_id, drive = prepared["channel_id"], prepared["newer_drive"]
    home = copy_home("installed")
    files_before = home.stored()
    where = f"{drive}/" if op == "read" else in_temp(home)
    failed = home.faulted(f"{op}:{'2' if op == 'read' else '1'}:{error}:{where}",
                          "importchannel", "disk", channel_id, str(drive))
    assert failed.returncode == exit_code and says in failed.stderr, failed.stderr
    assert home.temp_leftovers() == []
    # The version being imported is invisible; the one served before is served, whole.
    assert channel_state(home, channel_id) == ([(1, "available")], [1])
    assert home.served_version(channel_id) == 1
    assert home.stored() == files_before
    home.check()

    home.run("importchannel", "disk", channel_id, str(drive))
    assert channel_state(home, channel_id) == ([(2, "available")], [1, 2])
    assert home.served_version(channel_id) == 2


def test_a_first_importchannel_cut_by_a_pulled_drive_leaves_no_channel(prepared, copy_home):
    channel_id, drive = prepared["channel_id"], prepared["drive"]
    home = copy_home("blank")
    failed = home.faulted(f"read:2:ENODEV:{drive}/", "importchannel", "disk", channel_id,
                          str(drive))
    assert failed.returncode == 6 and READ_FAILS in failed.stderr
    assert channel_state(home, channel_id) == ([], [])
    assert not (home.content_dir / "databases" / f"{channel_id}.sqlite3").exists()
    assert home.temp_leftovers() == []
    home.check()
    home.run("importchannel", "disk", channel_id, str(drive))
    assert channel_state(home, channel_id) == ([(1, "available")], [1])


# importcontent disk ------------------------------------------------------------------------

@pytest.mark.parametrize("op, error, exit_code, says", [
    ("read", "EIO", 6, READ_FAILS),
    ("read", "ENODEV", 6, READ_FAILS),
    ("write", "ENOSPC", 5, FULL),
    ("write", "EIO", 6, WRITE_FAILS),
])
def test_an_importcontent_meeting(op, error, exit_code, says, prepared, copy_home):
    channel_id, drive = prepared["channel_id"], prepared["drive"]
    home = copy_home("channel_only")
    where = f"{drive}/" if op == "read" else in_temp(home)
    # A file takes about three reads: the 12th is the 4th file's; the 5th write the 5th
    # file's. (Files are synced in batches by syncfs, which no Python wrapper sees.)
    failed = home.faulted(f"{op}:{12 if op == 'read' else 5}:{error}:{where}",
                          "importcontent", "disk", channel_id, str(drive))
    assert failed.returncode == exit_code and says in failed.stderr, failed.stderr
    kept = home.stored()  # every one whole (checked by stored())
    assert 2 <= len(kept) < prepared["files"], kept
    assert home.temp_leftovers() == []
    assert home.rows("SELECT state FROM channels_contentimport") == [("interrupted",)]
    assert channel_state(home, channel_id) == ([(1, "available")], [1])
    home.check()

    home.run("importcontent", "disk", channel_id, str(drive))
    assert home.rows("SELECT state, files_done FROM channels_contentimport") == [
        ("done", prepared["files"])]
    assert set(kept) <= set(home.stored()) and len(home.stored()) == prepared["files"]
    home.run("checkinvariants", "--full")


# exportcontent and exportchannel -----------------------------------------------------------

def unfinished_parts(drive: Path) -> list[str]:
    return [name for name in drive_files(drive) if name.endswith((".partial", ".part"))]


@pytest.mark.parametrize("fault, exit_code, says, on_drive", [
    ("write:5:ENOSPC:{drive}/", 5, FULL, "some files"),
    ("fsync:5:EIO:{drive}/", 6, WRITE_FAILS, "some files"),
    ("read:5:EIO:{store}/", 6, "from this server's storage", "some files"),
    ("write:1:ENOSPC:manifest.json", 5, FULL, "every file"),
    ("write:1:EIO:/databases/", 6, WRITE_FAILS, "every file and the manifest"),
])
def test_an_exportcontent_meeting(fault, exit_code, says, on_drive, prepared, copy_home,
                                  tmp_path):
    channel_id, complete = prepared["channel_id"], drive_files(prepared["drive"])
    database_name = f"KOLIBRI_DATA/content/databases/{channel_id}.sqlite3"
    home = copy_home("installed")
    drive = tmp_path / "usb"
    drive.mkdir()
    spec = fault.format(drive=drive, store=home.content_dir / "storage")
    failed = home.faulted(spec, "exportcontent", channel_id, str(drive))
    assert failed.returncode == exit_code and says in failed.stderr, failed.stderr

    # Clearly unfinished: no database (a Kolibri reader shows no channel), no partial file,
    # and a manifest, if any, claims only files that are there.
    left = drive_files(drive)
    assert database_name not in left and unfinished_parts(drive) == []
    assert all(left[name] == complete[name] for name in left)
    stored_files = [name for name in left if "/storage/" in name]
    if on_drive == "some files":
        assert 0 < len(stored_files) < prepared["files"]
    else:
        assert len(stored_files) == prepared["files"]
    assert ("KOLIBRI_DATA/content/manifest.json" in left) == on_drive.endswith("manifest")
    assert manifest_claims_missing(drive, prepared["drive"] / database_name) == []
    home.check()

    home.run("exportcontent", channel_id, str(drive))
    assert drive_files(drive) == complete


@pytest.mark.parametrize("fault, exit_code, says", [
    ("write:1:ENOSPC:{drive}/", 5, FULL),
    ("read:1:EIO:{databases}/", 6, "from this server's storage"),
])
def test_an_exportchannel_meeting(fault, exit_code, says, prepared, copy_home, tmp_path):
    channel_id = prepared["channel_id"]
    home = copy_home("installed")
    drive = tmp_path / "usb"
    drive.mkdir()
    spec = fault.format(drive=drive, databases=home.content_dir / "databases")
    failed = home.faulted(spec, "exportchannel", channel_id, str(drive))
    assert failed.returncode == exit_code and says in failed.stderr, failed.stderr
    assert [name for name in drive_files(drive) if "/databases/" in name] == []
    home.run("exportchannel", channel_id, str(drive))
    assert list(drive_files(drive)) == [f"KOLIBRI_DATA/content/databases/{channel_id}.sqlite3"]


def test_an_export_never_lists_in_the_manifest_a_node_whose_file_it_could_not_copy(
        prepared, copy_home, tmp_path):
    channel_id = prepared["channel_id"]
    database = prepared["drive"] / "KOLIBRI_DATA" / "content" / "databases" / \
        f"{channel_id}.sqlite3"
    home = copy_home("installed")
    checksum, extension, _size = home.stored()[0]
    damaged = home.stored_path(checksum, extension)
    damaged.write_bytes(damaged.read_bytes()[::-1])
    drive = tmp_path / "usb"
    drive.mkdir()
    failed = home.run("exportcontent", channel_id, str(drive), check=False)
    assert failed.returncode == 4 and "verifystorage --repair" in failed.stderr, failed.stderr
    manifest = json.loads((drive / "KOLIBRI_DATA" / "content" / "manifest.json").read_text())
    assert manifest["channels"][0]["include_node_ids"]  # the rest of the channel is listed
    assert manifest_claims_missing(drive, database) == []
