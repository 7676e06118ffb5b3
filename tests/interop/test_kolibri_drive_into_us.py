"""Direction 2 of the proof: a drive the real Kolibri 0.19.5 exports imports here unchanged.

Our channel goes out on a drive, into Kolibri, out again through Kolibri's own
`exportchannel` / `exportcontent` (which write into the folder they are given, so they get the
KOLIBRI_DATA folder itself), and into a second server of ours. Node for node, row for row and
file for file, what that server holds equals the original.
"""

from __future__ import annotations

from pathlib import Path

from tests.interop.channel_rows import CHANNEL_TABLES, read_table, table_columns
from tests.interop.conftest import OurChannel
from tests.interop.kolibri import KolibriHome, checksums_of_files
from tests.servers import ServerProcess


def test_a_drive_kolibri_exports_imports_here_node_for_node(
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
