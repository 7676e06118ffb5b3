"""`KOLIBRI_DATA/content/manifest.json`: which nodes' files a drive holds (CHANNEL_FORMAT.md).

Kolibri's shape, so drives move between Kolibri and us both ways:

    {"channels": [{"id": ..., "version": 3, "include_node_ids": [sorted subtree roots]}],
     "channel_list_hash": md5(json.dumps(channels, sort_keys=True))}

An export merges its entry with those already on the drive (other channels, other versions of
this one); an import reads the entries of a channel to know which files to expect. A channel
that the manifest does not mention is assumed complete (drives written before manifests).

    entries = read_manifest(layout.manifest_path)
    write_manifest(layout.manifest_path, merge_entry(entries, ManifestEntry(cid, 3, roots)))
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channels.transfer.errors import InvalidManifestError
from routers.ids import CHANNEL_ID_PATTERN
from storage.files import fsync_directory

MANIFEST_NAME = "manifest.json"
# A manifest lists subtree roots, not every node; anything far larger is not a manifest.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ManifestEntry:
    channel_id: str
    version: int
    include_node_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.channel_id, "version": self.version,
                "include_node_ids": sorted(self.include_node_ids)}


def channel_list_hash(channels: list[dict[str, Any]]) -> str:
    return hashlib.md5(json.dumps(channels, sort_keys=True).encode()).hexdigest()


def manifest_document(entries: list[ManifestEntry]) -> dict[str, Any]:
    channels = [entry.as_dict() for entry in
                sorted(entries, key=lambda item: (item.channel_id, item.version))]
    return {"channels": channels, "channel_list_hash": channel_list_hash(channels)}


def read_manifest(path: Path) -> list[ManifestEntry]:
    """The drive's entries; [] without a manifest. The hash is not enforced (Kolibri does not
    either), but every id is checked before it selects anything."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        return []
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InvalidManifestError(path, "it is larger than any manifest")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidManifestError(path, f"not JSON ({error})") from None
    channels = document.get("channels") if isinstance(document, dict) else None
    if not isinstance(channels, list):
        raise InvalidManifestError(path, 'no "channels" list')
    entries = []
    for item in channels:
        entries.append(_entry(path, item))
    return entries


def _entry(path: Path, item: object) -> ManifestEntry:
    if not isinstance(item, dict):
        raise InvalidManifestError(path, f"a channel entry is not an object: {item!r}")
    channel_id, version, node_ids = item.get("id"), item.get("version"), item.get(
        "include_node_ids", [])
    if not isinstance(channel_id, str) or CHANNEL_ID_PATTERN.fullmatch(channel_id) is None:
        raise InvalidManifestError(path, f"malformed channel id {channel_id!r}")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidManifestError(path, f"malformed version {version!r} of {channel_id}")
    if not isinstance(node_ids, list) or not all(
            isinstance(node_id, str) and CHANNEL_ID_PATTERN.fullmatch(node_id)
            for node_id in node_ids):
        raise InvalidManifestError(path, f"malformed include_node_ids of {channel_id}")
    return ManifestEntry(channel_id, version, tuple(node_ids))


def included_roots(entries: list[ManifestEntry], channel_id: str,
                   version: int | None = None) -> set[str] | None:
    """Subtree roots whose files the drive holds for this channel, or None if the manifest does
    not mention the channel (then the drive is taken to hold all of it). Node ids stay the same
    across versions, so entries of other versions count too when `version` has none."""
    mine = [entry for entry in entries if entry.channel_id == channel_id]
    if not mine:
        return None
    exact = [entry for entry in mine if entry.version == version]
    chosen = exact or mine
    return {node_id for entry in chosen for node_id in entry.include_node_ids}


def merge_entry(entries: list[ManifestEntry], new: ManifestEntry) -> list[ManifestEntry]:
    """Replace the entry of the same channel and version; keep every other one."""
    kept = [entry for entry in entries
            if (entry.channel_id, entry.version) != (new.channel_id, new.version)]
    return [*kept, new]


def write_manifest(path: Path, entries: list[ManifestEntry]) -> None:
    """Write through a temporary name and a rename, synced: a pulled drive keeps the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.partial")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(manifest_document(entries), handle, indent=4)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    fsync_directory(path.parent)
