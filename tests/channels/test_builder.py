from __future__ import annotations

import sqlite3

import pytest

from channels.builder import ChannelSpec, NodeSpec, build_channel
from channels.checks import check_channel_database
from channels.models import Channel
from content.models import ContentNode, File
from routers.context import using_content_database
from storage.paths import storage_path

pytestmark = pytest.mark.django_db


def test_it_builds_a_servable_channel_file(make_channel):
    result = make_channel("maths", topics=2, leaves=3)
    assert result.path.name == f"{result.channel_id}.sqlite3"
    assert result.node_count == 1 + 2 + 2 * 3
    info = check_channel_database(result.path, expected_channel_id=result.channel_id)
    assert info.name == "Maths"
    assert Channel.objects.get(id=result.channel_id).node_count == 9


def test_its_mptt_fields_describe_the_tree(make_channel):
    result = make_channel("tree", topics=3, leaves=2)
    with using_content_database(result.channel_id):
        root = ContentNode.objects.get(parent=None)
        assert root.lft == 1 and root.rght == 2 * result.node_count
        for node in ContentNode.objects.all():
            assert node.get_descendant_count() == ContentNode.objects.filter(
                lft__gt=node.lft, rght__lt=node.rght).count()
            if node.parent_id:
                assert node.level == node.parent.level + 1
        titles = [child.title for child in root.get_children()]
        assert titles == ["tree topic 0", "tree topic 1", "tree topic 2"]


def test_its_files_are_in_storage(make_channel):
    result = make_channel("files", topics=1, leaves=2)
    with using_content_database(result.channel_id):
        files = list(File.objects.all())
    assert len(files) == 2
    for file_row in files:
        assert storage_path(file_row.checksum, file_row.extension).is_file()
        assert file_row.get_url().startswith(f"/content/storage/{file_row.checksum[0]}/")


def test_the_file_is_not_wal(make_channel):
    result = make_channel("journal")
    connection = sqlite3.connect(result.path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()


def test_unchanged_node_ids_survive_a_rebuild(make_channel):
    first = make_channel("again")
    second = build_channel(ChannelSpec(name="Again", id=first.channel_id,
                                       root=NodeSpec(title="again root", kind="topic")))
    assert second.channel_id == first.channel_id
    with using_content_database(first.channel_id):
        assert ContentNode.objects.count() == 1
