"""Finding drives and their KOLIBRI_DATA folder (root or folder given, any case)."""

from __future__ import annotations

import pytest

from channels.transfer.drives import drive_layout, find_drives
from channels.transfer.errors import DriveNotFoundError


def test_a_drive_is_given_by_its_root_or_its_data_folder(tmp_path):
    (tmp_path / "usb" / "KOLIBRI_DATA").mkdir(parents=True)
    by_root = drive_layout(tmp_path / "usb")
    by_folder = drive_layout(tmp_path / "usb" / "KOLIBRI_DATA")
    assert by_root == by_folder
    assert by_root.manifest_path == tmp_path / "usb" / "KOLIBRI_DATA" / "content" / \
        "manifest.json"
    assert by_root.database_path("a" * 32).name == "a" * 32 + ".sqlite3"
    with pytest.raises(ValueError):
        by_root.database_path("../../etc/passwd")


def test_a_folder_without_kolibri_data_is_not_a_drive_unless_exporting(tmp_path):
    with pytest.raises(DriveNotFoundError):
        drive_layout(tmp_path)
    with pytest.raises(DriveNotFoundError):
        drive_layout(tmp_path / "missing", create=True)
    assert drive_layout(tmp_path, create=True).data_dir == tmp_path / "KOLIBRI_DATA"


def test_find_drives_lists_folders_with_kolibri_data(tmp_path):
    (tmp_path / "usb" / "Kolibri_Data").mkdir(parents=True)
    (tmp_path / "empty").mkdir()
    found = find_drives([tmp_path / "usb", tmp_path / "empty", tmp_path / "missing"])
    assert tmp_path / "usb" in found
    assert tmp_path / "empty" not in found
