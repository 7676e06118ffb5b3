"""Kolibri plays an exercise from its `.perseus` file *and* its `content_assessmentmetadata` row
(item ids, mastery model): its API serves that row as the node's `assessmentmetadata`, which its
exercise player reads. Checked on the database we build, without Kolibri (Kolibri 0.19.5 answers
`"assessmentmetadata": null` for an exercise whose row is missing).
"""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

from tests.interop.channel_rows import read_node_files
from tests.servers import ServerProcess

BUILD_EVERY_KIND = "from tests.interop.every_kind import main; main()"


def test_our_exercises_carry_the_assessment_metadata_kolibri_plays_them_with(
        tmp_path: Path) -> None:
    ours = ServerProcess(tmp_path / "ours")
    try:
        ours.run_command("migrate", "--noinput", "-v", "0")
        built = json.loads(
            ours.run_command("shell", "-c", BUILD_EVERY_KIND).stdout.strip().splitlines()[-1])
        database = ours.content_dir / "databases" / f"{built['channel_id']}.sqlite3"
        exercises = [row for row in read_node_files(database) if row.preset == "exercise"]
        assert exercises
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            metadata = dict(connection.execute(
                "SELECT contentnode_id, assessment_item_ids FROM content_assessmentmetadata"))
        for row in exercises:
            perseus = (ours.content_dir / "storage" / row.checksum[0] / row.checksum[1]
                       / f"{row.checksum}.perseus")
            with zipfile.ZipFile(perseus) as archive:
                item_ids = json.loads(archive.read("exercise.json"))["all_assessment_items"]
            assert json.loads(metadata[row.node_id]) == item_ids
    finally:
        ours.drop_database()
