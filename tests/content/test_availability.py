"""Device state: a node is available when its files are on this server, whatever the channel
file's own `available` column says (Kolibri ships it as 0 until content is imported)."""

from __future__ import annotations

import sqlite3

import pytest

from content import availability
from content.availability import available_node_ids, available_topic_ids
from content.models import ContentNode, File
from routers.context import using_content_database
from storage.models import StoredFile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def recheck_the_store_every_time(monkeypatch):
    monkeypatch.setattr(availability, "STORE_RECHECK_SECONDS", 0.0)


def nodes_by_title(channel_id: str) -> dict[str, ContentNode]:
    with using_content_database(channel_id):
        return {node.title: node for node in ContentNode.objects.all()}


def forget_files_of(channel_id: str, titles: list[str]) -> None:
    with using_content_database(channel_id):
        checksums = list(File.objects.filter(contentnode__title__in=titles)
                         .values_list("local_file_id", flat=True))
    StoredFile.objects.filter(checksum__in=checksums).delete()


def test_topics_follow_the_files_present_below_them(make_channel):
    built = make_channel("partial", topics=2, leaves=2)
    forget_files_of(built.channel_id, ["partial leaf 0.0", "partial leaf 0.1"])
    nodes = nodes_by_title(built.channel_id)
    with using_content_database(built.channel_id):
        available = available_node_ids(list(nodes.values()))
    assert nodes["partial topic 0"].id not in available
    assert nodes["partial topic 1"].id in available
    assert nodes["partial root"].id in available
    assert nodes["partial leaf 1.0"].id in available
    assert nodes["partial leaf 0.0"].id not in available


def test_nothing_present_means_nothing_available(make_channel):
    built = make_channel("empty", topics=1, leaves=2)
    StoredFile.objects.all().delete()
    with using_content_database(built.channel_id):
        assert available_topic_ids(built.channel_id) == frozenset()
        assert available_node_ids(list(ContentNode.objects.all())) == set()


def test_a_kolibri_file_that_says_unavailable_plays_when_its_files_are_here(make_channel,
                                                                             client):
    built = make_channel("kolibri", topics=1, leaves=1)
    connection = sqlite3.connect(built.path)
    connection.execute("UPDATE content_contentnode SET available = 0")
    connection.commit()
    connection.close()
    nodes = nodes_by_title(built.channel_id)
    leaf = nodes["kolibri leaf 0.0"]
    body = client.get(f"/api/content/{built.channel_id}/contentnode/{leaf.id}/").json()
    assert body["available"] is True
    topic = client.get(f"/api/content/{built.channel_id}/contentnode/"
                       f"{nodes['kolibri topic 0'].id}/").json()
    assert topic["available"] is True


def test_the_answer_follows_the_store_without_a_restart(make_channel, client):
    built = make_channel("follow", topics=1, leaves=1)
    topic = nodes_by_title(built.channel_id)["follow topic 0"]
    url = f"/api/content/{built.channel_id}/contentnode/{topic.id}/"
    assert client.get(url).json()["available"] is True
    forget_files_of(built.channel_id, ["follow leaf 0.0"])
    assert client.get(url).json()["available"] is False


def test_the_pages_show_unavailable_items(make_channel, client):
    built = make_channel("page", topics=1, leaves=1)
    leaf = nodes_by_title(built.channel_id)["page leaf 0.0"]
    forget_files_of(built.channel_id, ["page leaf 0.0"])
    page = client.get(f"/channels/{built.channel_id}/content/{leaf.id}/").content.decode()
    assert "not available on this server" in page
