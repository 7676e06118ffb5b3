"""Direction 2 of the proof: a drive the real Kolibri 0.19.5 exports imports here unchanged.

Our channel goes out on a drive, into Kolibri, out again through Kolibri's own
`exportchannel` / `exportcontent` (which write into the folder they are given, so they get the
KOLIBRI_DATA folder itself), and into a second server of ours. Node for node, row for row and
file for file, what that server holds equals the original. A partial drive Kolibri writes
(`exportcontent --node_ids <topic>`) imports here as partial: the files its manifest names,
nothing more.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.interop.channel_rows import (
    CHANNEL_TABLES,
    NodeRow,
    read_node_files,
    read_nodes,
    read_table,
    storage_names,
    table_columns,
)
from tests.interop.conftest import OurChannel
from tests.interop.kolibri import KolibriHome, checksums_of_files
from tests.servers import ServerProcess


def test_drives_kolibri_exports_import_here_whole_and_partial(
        our_channel: OurChannel, kolibri_home: KolibriHome, tmp_path: Path) -> None:
    channel_id = our_channel.channel_id
    our_drive = tmp_path / "our-drive"
    our_drive.mkdir()
    our_channel.server.run_command("exportcontent", channel_id, str(our_drive))
    kolibri_home.manage("importchannel", "disk", channel_id, str(our_drive / "KOLIBRI_DATA"))
    kolibri_home.manage("importcontent", "disk", channel_id, str(our_drive / "KOLIBRI_DATA"))

    kolibri_drive = tmp_path / "kolibri-drive"
    (kolibri_drive / "KOLIBRI_DATA").mkdir(parents=True)
    kolibri_home.manage("exportchannel", channel_id, str(kolibri_drive / "KOLIBRI_DATA"))
    kolibri_home.manage("exportcontent", channel_id, str(kolibri_drive / "KOLIBRI_DATA"))
    assert (kolibri_drive / "KOLIBRI_DATA" / "content" / "manifest.json").is_file()

    second = ServerProcess(tmp_path / "second")
    try:
        second.run_command("migrate", "--noinput", "-v", "0")
        second.run_command("importchannel", "disk", channel_id, str(kolibri_drive))
        second.run_command("importcontent", "disk", channel_id, str(kolibri_drive))
        imported_path = second.content_dir / "databases" / f"{channel_id}.sqlite3"

        original_path = our_channel.database_path
        for table in CHANNEL_TABLES:
            columns = table_columns(original_path, table)
            assert set(columns) <= set(table_columns(imported_path, table)), table
            assert read_table(imported_path, table, columns) == \
                read_table(original_path, table, columns), table
        assert len(read_table(imported_path, "content_contentnode")) == 30

        original_files = checksums_of_files(our_channel.storage_dir)
        imported_files = checksums_of_files(second.content_dir / "storage")
        assert imported_files == original_files
        assert all(name.split(".")[0] == checksum for name, checksum in imported_files.items())
    finally:
        second.drop_database()
    check_partial_drive_from_kolibri(our_channel, kolibri_home, tmp_path)


def check_partial_drive_from_kolibri(our_channel: OurChannel, kolibri_home: KolibriHome,
                                     tmp_path: Path) -> None:
    """Kolibri (holding the whole channel) exports one topic; a third server of ours sees the
    drive as partial and imports exactly the files on it. Part of the test above, so the
    slow Kolibri set-up is paid once."""
    channel_id = our_channel.channel_id
    nodes = read_nodes(our_channel.database_path)
    files = read_node_files(our_channel.database_path)
    topic_id = max((node_id for node_id, row in nodes.items()
                    if row.kind == "topic" and row.parent_id is not None),
                   key=lambda node_id: sum(row.parent_id == node_id for row in nodes.values()))
    subtree = {topic_id} | {node_id for node_id in nodes if _is_below(nodes, node_id, topic_id)}

    kolibri_drive = tmp_path / "kolibri-partial"
    data_dir = kolibri_drive / "KOLIBRI_DATA"
    data_dir.mkdir(parents=True)
    kolibri_home.manage("exportchannel", channel_id, str(data_dir))
    kolibri_home.manage("exportcontent", channel_id, str(data_dir), "--node_ids", topic_id)
    manifest = json.loads((data_dir / "content" / "manifest.json").read_text())
    [entry] = manifest["channels"]
    assert entry["id"] == channel_id
    assert set(entry["include_node_ids"]) <= subtree
    on_drive = {path.name for path in (data_dir / "content" / "storage").rglob("*")
                if path.is_file()}
    leaves_below = {node_id for node_id in subtree if nodes[node_id].kind != "topic"}
    assert storage_names({row for row in files if row.node_id in leaves_below}) <= on_drive
    assert on_drive < storage_names(files)

    third = ServerProcess(tmp_path / "third")
    try:
        third.run_command("migrate", "--noinput", "-v", "0")
        listing = json.loads(third.run_command("listchannels", "disk", str(kolibri_drive),
                                               "--json").stdout)
        assert [(channel["id"], channel["partial"]) for channel in listing] == \
            [(channel_id, True)]
        third.run_command("importchannel", "disk", channel_id, str(kolibri_drive))
        third.run_command("importcontent", "disk", channel_id, str(kolibri_drive))
        stored_here = checksums_of_files(third.content_dir / "storage")
        assert set(stored_here) == on_drive
        assert all(name.split(".")[0] == checksum for name, checksum in stored_here.items())
    finally:
        third.drop_database()


def _is_below(nodes: dict[str, NodeRow], node_id: str, ancestor_id: str) -> bool:
    parent_id = nodes[node_id].parent_id
    for _ in range(len(nodes)):
        if parent_id is None:
            return False
        if parent_id == ancestor_id:
            return True
        parent_id = nodes[parent_id].parent_id
    return False
