"""`GET /api/content/<channel_id>/file/`: every file of the channel, with its node."""

from __future__ import annotations

import pytest

from tests.content.api_helpers import files_url

pytestmark = pytest.mark.django_db


def test_it_lists_every_file_with_the_node_fields(client, media_channel, node_by_title):
    body = client.get(files_url(media_channel.channel_id)).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 6  # mp4, webm, png, vtt, mp3, pdf
    video = node_by_title(media_channel.channel_id, "media video")
    listed = {item["id"]: item for item in body["results"]}
    for node_file in video["files"]:
        assert listed[node_file["id"]] == {**node_file, "contentnode": video["id"]}


def test_contentnode_filters_one_nodes_files(client, media_channel, node_by_title):
    audio = node_by_title(media_channel.channel_id, "media audio")
    body = client.get(files_url(media_channel.channel_id), {"contentnode": audio["id"]}).json()
    assert [item["extension"] for item in body["results"]] == ["mp3"]
    assert client.get(files_url(media_channel.channel_id),
                      {"contentnode": "nope"}).status_code == 400


def test_files_are_paginated_in_a_stable_order(client, media_channel):
    url = files_url(media_channel.channel_id)
    pages = [client.get(url, {"page_size": 4, "page": page}).json() for page in (1, 2)]
    assert [len(page["results"]) for page in pages] == [4, 2]
    ids = [item["id"] for page in pages for item in page["results"]]
    assert len(set(ids)) == 6
    assert ids == [item["id"] for item in client.get(url).json()["results"]]


def test_an_unknown_channel_has_no_files(client, media_channel):
    response = client.get(files_url("e" * 32))
    assert response.status_code == 404 and set(response.json()) == {"detail"}
