"""Direction 1 of the proof: a drive we export imports into the real Kolibri 0.19.5.

Kolibri's own commands import it (`importchannel disk`, `importcontent disk`, given the
KOLIBRI_DATA folder itself); Kolibri's own API then lists the same nodes and Kolibri serves
the same bytes, and its storage holds files whose MD5s are their names.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.interop.channel_rows import read_channel, read_node_files, read_nodes, storage_names
from tests.interop.conftest import OurChannel
from tests.interop.kolibri import (
    KolibriHome,
    checksums_of_files,
    get_bytes,
    get_json,
    walk_kolibri_tree,
)


def test_kolibri_imports_our_drive_with_the_same_nodes_and_bytes(
        our_channel: OurChannel, kolibri_home: KolibriHome, tmp_path: Path) -> None:
    channel_id = our_channel.channel_id
    drive = tmp_path / "drive"
    drive.mkdir()
    our_channel.server.run_command("exportcontent", channel_id, str(drive))

    kolibri_home.manage("importchannel", "disk", channel_id, str(drive / "KOLIBRI_DATA"))
    kolibri_home.manage("importcontent", "disk", channel_id, str(drive / "KOLIBRI_DATA"))

    expected_channel = read_channel(our_channel.database_path)
    expected_nodes = read_nodes(our_channel.database_path)
    expected_files = read_node_files(our_channel.database_path)
    assert {row.kind for row in expected_nodes.values()} >= {"topic", "video", "audio", "document"}
    assert any(row.preset == "video_subtitle" for row in expected_files)

    # Kolibri's storage: every file of ours, named by its MD5, with our bytes.
    ours = checksums_of_files(our_channel.storage_dir)
    kolibri_stored = kolibri_home.stored_file_checksums()
    assert set(kolibri_stored) == storage_names(expected_files)
    for name, checksum in kolibri_stored.items():
        assert name.split(".")[0] == checksum == ours[name]

    with kolibri_home.server() as base_url:
        channels = get_json(base_url + "/api/content/channel/")
        assert [{key: channel[key] for key in ("id", "name", "version", "root")}
                for channel in channels] == [expected_channel]
        assert channels[0]["available"] is True

        listed_nodes, listed_files = walk_kolibri_tree(base_url, str(expected_channel["root"]),
                                                       limit=len(expected_nodes))
        assert listed_nodes == expected_nodes
        assert listed_files == expected_files

        for row in sorted(expected_files):
            url = (f"{base_url}/content/storage/{row.checksum[0]}/{row.checksum[1]}/"
                   f"{row.checksum}.{row.extension}")
            assert hashlib.md5(get_bytes(url)).hexdigest() == row.checksum, url

