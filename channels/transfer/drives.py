"""Drives and folders holding channels: where they are, their layout, their file system.

A `<drive>` argument may be the drive's root or its `KOLIBRI_DATA` folder (INTERFACE.md). The
folder is found whatever the case of its name, since FAT drives written by other systems do not
keep case reliably.

    layout = drive_layout(Path("/media/usb"))          # DriveNotFoundError (exit 3) if absent
    layout.database_path(channel_id), layout.storage_file(checksum, "mp4")
    find_drives()                                      # [Path("/media/usb"), ...]
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from channels.transfer.errors import DriveNotFoundError
from routers.ids import is_valid_channel_id
from storage.paths import storage_relpath

DATA_FOLDER = "KOLIBRI_DATA"
# Where desktop Linux and Raspberry Pi OS mount removable drives; one or two levels deep.
MOUNT_PARENTS = (Path("/media"), Path("/mnt"), Path("/run/media"))
MAX_SCANNED_ENTRIES = 500
FAT_TYPES = frozenset({"vfat", "msdos", "fat", "umsdos"})
# FAT32 stores sizes in 32 bits: the largest file is 4 GiB minus one byte.
FAT_MAX_FILE_SIZE = 4 * 1024 ** 3 - 1


@dataclass(frozen=True)
class DriveLayout:
    root: Path       # the folder that holds KOLIBRI_DATA
    data_dir: Path   # KOLIBRI_DATA itself

    @property
    def content_dir(self) -> Path:
        return self.data_dir / "content"

    @property
    def databases_dir(self) -> Path:
        return self.content_dir / "databases"

    @property
    def storage_dir(self) -> Path:
        return self.content_dir / "storage"

    @property
    def manifest_path(self) -> Path:
        return self.content_dir / "manifest.json"

    def database_path(self, channel_id: str) -> Path:
        if not is_valid_channel_id(channel_id):
            raise ValueError(f"not a channel id: {channel_id!r}")
        return self.databases_dir / f"{channel_id}.sqlite3"

    def storage_file(self, checksum: str, extension: str) -> Path:
        return self.storage_dir / storage_relpath(checksum, extension)

    def label(self) -> str:
        return f"drive {self.root}"


def _data_folder_in(folder: Path) -> Path | None:
    exact = folder / DATA_FOLDER
    if exact.is_dir():
        return exact
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_SCANNED_ENTRIES:
                    break
                if entry.name.upper() == DATA_FOLDER and entry.is_dir():
                    return folder / entry.name
    except OSError:
        return None
    return None


def drive_layout(drive: Path | str, *, create: bool = False) -> DriveLayout:
    """The layout of `drive`; with `create` (exports), KOLIBRI_DATA is made if missing."""
    path = Path(drive).expanduser()
    if not path.is_dir():
        raise DriveNotFoundError(path, "no such drive or folder (is it mounted?)")
    path = path.resolve()
    if path.name.upper() == DATA_FOLDER:
        return DriveLayout(root=path.parent, data_dir=path)
    found = _data_folder_in(path)
    if found is None:
        if not create:
            raise DriveNotFoundError(path, f"no {DATA_FOLDER} folder here, so no channels; "
                                           f"give the drive's root or its {DATA_FOLDER} folder")
        found = path / DATA_FOLDER
        found.mkdir(exist_ok=True)
    return DriveLayout(root=path, data_dir=found)


def find_drives(extra: Iterable[Path | str] = ()) -> list[Path]:
    """Mounted drives and folders that hold a KOLIBRI_DATA folder, plus those of `extra` that
    do (a folder an admin points at). Bounded: two levels under each mount parent."""
    candidates: list[Path] = [Path(item).expanduser() for item in extra]
    for parent in MOUNT_PARENTS:
        candidates.extend(_children(parent))
        for child in _children(parent):
            candidates.extend(_children(child))
    found: list[Path] = []
    for candidate in candidates:
        try:
            layout = drive_layout(candidate)
        except (DriveNotFoundError, OSError):
            continue
        if layout.root not in found:
            found.append(layout.root)
    return found


def _children(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            found = []
            for count, entry in enumerate(entries):
                if count >= MAX_SCANNED_ENTRIES:
                    break
                if entry.is_dir(follow_symlinks=False):
                    found.append(Path(entry.path))
            return sorted(found)
    except OSError:
        return []


def filesystem_type(path: Path) -> str:
    """The type of the file system `path` is on, from /proc/mounts ("" where unknown)."""
    try:
        target = os.path.realpath(path)
        with open("/proc/mounts", encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return ""
    best, best_type = "", ""
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        # /proc/mounts escapes spaces and tabs in mount points as octal.
        mount_point = fields[1].replace("\\040", " ").replace("\\011", "\t")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fields[2]
    return best_type


def is_fat(path: Path) -> bool:
    return filesystem_type(path).lower() in FAT_TYPES


def free_space(path: Path) -> int:
    return shutil.disk_usage(path).free
