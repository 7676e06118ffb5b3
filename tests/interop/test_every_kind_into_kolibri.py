"""Direction 1 with every kind we build, and a partial drive, against the real Kolibri 0.19.5.

A drive holding only one topic's files imports into Kolibri as a partial channel: Kolibri
lists that topic's resources and nothing else. The full drive then completes it. Our own
presets that Kolibri does not know (ogg video, office documents, Flash) never stop the import:
Kolibri leaves those nodes unavailable and skips their files, as CHANNEL_FORMAT.md requires.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from io import BytesIO
from pathlib import Path

from tests.interop.channel_rows import (
    NodeFileRow,
    NodeRow,
    read_channel,
    read_node_files,
    read_nodes,
    storage_names,
)
from tests.interop.kolibri import (
    KolibriHome,
    checksums_of_files,
    get_bytes,
    get_json,
    walk_kolibri_tree,
)
from tests.servers import ServerProcess

# Presets of ours that Kolibri 0.19 has no renderer for (CHANNEL_FORMAT.md).
KOLIBRI_UNKNOWN_PRESETS = frozenset({"ogg_video", "office_document", "flash"})
BUILD_EVERY_KIND = "from tests.interop.every_kind import main; main()"


def test_kolibri_imports_a_partial_drive_then_the_whole_channel_of_every_kind(
        kolibri_home: KolibriHome, tmp_path: Path) -> None:
    ours = ServerProcess(tmp_path / "ours")
    try:
        ours.run_command("migrate", "--noinput", "-v", "0")
        built = json.loads(
            ours.run_command("shell", "-c", BUILD_EVERY_KIND).stdout.strip().splitlines()[-1])
        channel_id, topics = built["channel_id"], built["topics"]
        database = ours.content_dir / "databases" / f"{channel_id}.sqlite3"
        nodes, files = read_nodes(database), read_node_files(database)
        assert {row.kind for row in nodes.values()} == {
            "topic", "video", "audio", "document", "exercise", "html5", "h5p", "slideshow"}
        partial_drive, full_drive = tmp_path / "partial", tmp_path / "full"
        partial_drive.mkdir()
        full_drive.mkdir()
        ours.run_command("exportcontent", channel_id, str(partial_drive),
                         "--node_ids", topics["reading"])
        ours.run_command("exportcontent", channel_id, str(full_drive))
        our_bytes = checksums_of_files(ours.content_dir / "storage")
    finally:
        ours.drop_database()

    channel = read_channel(database)
    kolibri_home.manage("importchannel", "disk", channel_id, str(partial_drive / "KOLIBRI_DATA"))
    kolibri_home.manage("importcontent", "disk", channel_id, str(partial_drive / "KOLIBRI_DATA"))
    check_kolibri_holds(kolibri_home, channel, nodes, files, our_bytes,
                        under=topics["reading"])

    kolibri_home.manage("importcontent", "disk", channel_id, str(full_drive / "KOLIBRI_DATA"))
    check_kolibri_holds(kolibri_home, channel, nodes, files, our_bytes, under=None)


def check_kolibri_holds(kolibri_home: KolibriHome, channel: dict[str, object],
                        nodes: dict[str, NodeRow], files: set[NodeFileRow],
                        our_bytes: dict[str, str], *, under: str | None) -> None:
    """Kolibri lists exactly the nodes it can play (below `under` if given), stores exactly
    their files with our bytes, and opens our exercise zip."""
    expected_nodes = playable_nodes(nodes, files, under=under)
    expected_files = {row for row in files if row.node_id in expected_nodes}
    stored = kolibri_home.stored_file_checksums()
    assert set(stored) == storage_names(expected_files)
    assert all(our_bytes[name] == checksum for name, checksum in stored.items())

    with kolibri_home.server() as base_url:
        listed = get_json(base_url + "/api/content/channel/")
        assert [{key: entry[key] for key in ("id", "name", "version", "root")}
                for entry in listed] == [channel]
        listed_nodes, listed_files = walk_kolibri_tree(base_url, str(channel["root"]),
                                                       limit=len(nodes))
        assert listed_nodes == expected_nodes
        assert listed_files == expected_files
        for row in sorted(expected_files):
            url = (f"{base_url}/content/storage/{row.checksum[0]}/{row.checksum[1]}/"
                   f"{row.checksum}.{row.extension}")
            assert hashlib.md5(get_bytes(url)).hexdigest() == row.checksum, url
        exercise = next(row for row in expected_files if row.preset == "exercise")
        perseus = get_bytes(f"{base_url}/content/storage/{exercise.checksum[0]}/"
                            f"{exercise.checksum[1]}/{exercise.checksum}.perseus")
        with zipfile.ZipFile(BytesIO(perseus)) as archive:
            item_ids = json.loads(archive.read("exercise.json"))["all_assessment_items"]
        assert item_ids
        # Kolibri's exercise player reads the items from the node's assessment metadata.
        node = get_json(f"{base_url}/api/content/contentnode/{exercise.node_id}/")
        assert node["assessmentmetadata"]["assessment_item_ids"] == item_ids


def playable_nodes(nodes: dict[str, NodeRow], files: set[NodeFileRow], *,
                   under: str | None) -> dict[str, NodeRow]:
    """What Kolibri should list: resources below `under` (or anywhere) whose files are all of
    presets Kolibri knows, and every topic with such a resource below it."""
    unknown = {row.node_id for row in files if row.preset in KOLIBRI_UNKNOWN_PRESETS}
    root_id = next(node_id for node_id, row in nodes.items() if row.parent_id is None)

    def ancestors(node_id: str) -> list[str]:
        chain: list[str] = []
        parent_id = nodes[node_id].parent_id
        while parent_id is not None and len(chain) <= len(nodes):
            chain.append(parent_id)
            parent_id = nodes[parent_id].parent_id
        return chain

    playable: set[str] = set()
    for node_id, row in nodes.items():
        if row.kind == "topic" or node_id in unknown:
            continue
        if under is not None and under not in ancestors(node_id):
            continue
        playable.add(node_id)
        playable.update(ancestors(node_id))
    playable.add(root_id)
    return {node_id: nodes[node_id] for node_id in playable}
