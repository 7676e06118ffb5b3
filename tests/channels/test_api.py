"""`GET /api/channels/`, `GET /api/channels/<channel_id>/` and the channel database download."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from channels.models import Channel
from channels.selectors import forget_channel_state

pytestmark = pytest.mark.django_db

CHANNEL_FIELDS = {"id", "name", "description", "version", "version_label", "root_id",
                  "node_count", "total_size", "thumbnail"}


def test_it_lists_the_servable_channels(client, make_channel):
    maths = make_channel("maths", description="Numbers", version_label="spring term")
    science = make_channel("science")
    body = client.get("/api/channels/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    by_id = {item["id"]: item for item in body["results"]}
    assert set(by_id) == {maths.channel_id, science.channel_id}
    item = by_id[maths.channel_id]
    assert set(item) == CHANNEL_FIELDS
    assert item["name"] == "Maths" and item["description"] == "Numbers"
    assert item["version"] == 1 and item["version_label"] == "spring term"
    assert item["node_count"] == maths.node_count
    assert item["total_size"] == maths.total_size
    assert item["thumbnail"] is None
    assert len(item["root_id"]) == 32


def test_rejected_channels_are_not_listed(client, make_channel):
    maths, science = make_channel("maths"), make_channel("science")
    Channel.objects.filter(id=science.channel_id).update(state=Channel.State.REJECTED)
    body = client.get("/api/channels/").json()
    assert [item["id"] for item in body["results"]] == [maths.channel_id]
    assert client.get(f"/api/channels/{science.channel_id}/").status_code == 404


def test_the_list_is_paginated_by_name(client, make_channel):
    for label in ("delta", "alpha", "charlie", "bravo"):
        make_channel(label, topics=1, leaves=1)
    first = client.get("/api/channels/", {"page_size": 3}).json()
    assert [item["name"] for item in first["results"]] == ["Alpha", "Bravo", "Charlie"]
    assert first["count"] == 4 and first["next"]
    second = client.get("/api/channels/", {"page_size": 3, "page": 2}).json()
    assert [item["name"] for item in second["results"]] == ["Delta"]


def test_no_channels_is_an_empty_page(client, db):
    assert client.get("/api/channels/").json() == {"count": 0, "next": None, "previous": None,
                                                   "results": []}


def test_one_channel_by_id(client, make_channel):
    maths = make_channel("maths")
    response = client.get(f"/api/channels/{maths.channel_id}/")
    assert response.status_code == 200
    assert response.json()["id"] == maths.channel_id
    assert set(response.json()) == CHANNEL_FIELDS


@pytest.mark.parametrize("channel_id", ["e" * 32, "E" * 32, "e" * 31, "e" * 33, "e" * 32 + "%0A",
                                        "0x" + "e" * 30, ".."])
def test_an_unknown_or_malformed_channel_answers_404_json(client, make_channel, channel_id):
    make_channel("maths")
    response = client.get(f"/api/channels/{channel_id}/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


def test_the_database_download_is_the_current_file(client, make_channel, tmp_path):
    maths = make_channel("maths")
    response = client.get(f"/content/databases/{maths.channel_id}.sqlite3")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.sqlite3"
    assert f'filename="{maths.channel_id}.sqlite3"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert hashlib.md5(body).hexdigest() == hashlib.md5(maths.path.read_bytes()).hexdigest()
    downloaded = tmp_path / "downloaded.sqlite3"
    downloaded.write_bytes(body)
    connection = sqlite3.connect(f"file:{downloaded}?mode=ro", uri=True)
    try:
        assert connection.execute("SELECT id FROM content_channelmetadata").fetchone() == (
            maths.channel_id,)
    finally:
        connection.close()


def test_a_download_in_progress_keeps_its_version_across_a_swap(client, make_channel):
    maths = make_channel("maths")
    old_bytes = maths.path.read_bytes()
    response = client.get(f"/content/databases/{maths.channel_id}.sqlite3")
    make_channel("renamed", channel_id=maths.channel_id)  # installs a new version
    assert maths.path.read_bytes() != old_bytes
    assert b"".join(response.streaming_content) == old_bytes


@pytest.mark.parametrize("name", ["e" * 32, "E" * 32, "e" * 31, "e" * 32 + "%0A", "..%2fsecret"])
def test_the_download_refuses_unknown_and_malformed_channels(client, make_channel, content_dir,
                                                             name):
    make_channel("maths")
    before = sorted(path.name for path in (content_dir / "databases").iterdir())
    response = client.get(f"/content/databases/{name}.sqlite3")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}
    assert sorted(path.name for path in (content_dir / "databases").iterdir()) == before


def test_the_download_refuses_a_rejected_channel(client, make_channel):
    maths = make_channel("maths")
    Channel.objects.filter(id=maths.channel_id).update(state=Channel.State.REJECTED)
    forget_channel_state(maths.channel_id)
    assert client.get(f"/content/databases/{maths.channel_id}.sqlite3").status_code == 404
