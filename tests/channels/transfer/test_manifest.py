"""manifest.json: Kolibri's shape and hash, reading untrusted manifests, merging entries."""

from __future__ import annotations

import hashlib
import json

import pytest

from channels.transfer.errors import InvalidManifestError
from channels.transfer.manifest import (
    ManifestEntry,
    included_roots,
    manifest_document,
    merge_entry,
    read_manifest,
    write_manifest,
)

CHANNEL, OTHER = "a" * 32, "b" * 32
NODE, NODE2 = "c" * 32, "d" * 32


def test_the_document_has_kolibris_shape_and_hash():
    document = manifest_document([ManifestEntry(OTHER, 2, (NODE2, NODE)),
                                  ManifestEntry(CHANNEL, 1, (NODE,))])
    assert document["channels"] == [
        {"id": CHANNEL, "version": 1, "include_node_ids": [NODE]},
        {"id": OTHER, "version": 2, "include_node_ids": [NODE, NODE2]}]
    assert document["channel_list_hash"] == hashlib.md5(
        json.dumps(document["channels"], sort_keys=True).encode()).hexdigest()


def test_it_round_trips_through_a_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "usb" / "manifest.json"
    entries = [ManifestEntry(CHANNEL, 3, (NODE,))]
    write_manifest(path, entries)
    assert read_manifest(path) == entries
    assert [item.name for item in path.parent.iterdir()] == ["manifest.json"]


def test_a_missing_manifest_is_empty_and_a_bad_one_is_refused(tmp_path):
    path = tmp_path / "manifest.json"
    assert read_manifest(path) == []
    for bad in ("{", "[]", '{"channels": [{"id": "0x12", "version": 1}]}',
                '{"channels": [{"id": "%s", "version": "1"}]}' % CHANNEL,
                '{"channels": [{"id": "%s", "version": 1, "include_node_ids": ["%s\\n"]}]}'
                % (CHANNEL, NODE)):
        path.write_text(bad)
        with pytest.raises(InvalidManifestError):
            read_manifest(path)


def test_entries_say_which_subtrees_a_drive_holds():
    entries = [ManifestEntry(CHANNEL, 1, (NODE,)), ManifestEntry(CHANNEL, 2, (NODE2,))]
    assert included_roots(entries, CHANNEL, 2) == {NODE2}
    assert included_roots(entries, CHANNEL, 9) == {NODE, NODE2}  # ids are stable
    assert included_roots(entries, OTHER, 1) is None  # not mentioned: all of it


def test_merging_replaces_only_the_same_channel_version():
    entries = [ManifestEntry(CHANNEL, 1, (NODE,)), ManifestEntry(OTHER, 1, (NODE,))]
    merged = merge_entry(entries, ManifestEntry(CHANNEL, 1, (NODE2,)))
    assert sorted(merged, key=lambda item: item.channel_id) == [
        ManifestEntry(CHANNEL, 1, (NODE2,)), ManifestEntry(OTHER, 1, (NODE,))]
    assert len(merge_entry(entries, ManifestEntry(CHANNEL, 2, (NODE,)))) == 3
