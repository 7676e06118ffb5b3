"""`GET /api/content/<channel_id>/contentnode/`: shape, filters, ordering, pagination, queries."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from channels.builder import FileSpec, NodeSpec
from tests.content.api_helpers import nodes_url

pytestmark = pytest.mark.django_db

NODE_FIELDS = {"id", "channel_id", "content_id", "parent", "title", "description", "kind",
               "sort_order", "available", "thumbnail", "files"}
FILE_FIELDS = {"id", "checksum", "extension", "preset", "thumbnail", "supplementary", "lang",
               "file_size", "url", "available"}


def test_it_lists_the_channels_nodes_with_the_interface_fields(client, media_channel):
    response = client.get(nodes_url(media_channel.channel_id))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == media_channel.node_count == 6
    for node in body["results"]:
        assert set(node) == NODE_FIELDS
        assert node["channel_id"] == media_channel.channel_id
        for file_item in node["files"]:
            assert set(file_item) == FILE_FIELDS


def test_a_video_shows_its_files_thumbnail_and_availability(client, media_channel,
                                                            node_by_title):
    video = node_by_title(media_channel.channel_id, "media video")
    lesson = node_by_title(media_channel.channel_id, "media lesson")
    assert video["parent"] == lesson["id"]
    assert video["kind"] == "video"
    assert video["available"] is True
    assert video["sort_order"] == 1.0
    assert video["description"] == "Counting with fractions"
    assert [item["preset"] for item in video["files"]] == [
        "high_res_video", "low_res_video", "video_thumbnail", "video_subtitle"]
    thumbnail = next(item for item in video["files"] if item["thumbnail"])
    assert video["thumbnail"] == thumbnail["url"]
    assert thumbnail["url"] == (f"/content/storage/{thumbnail['checksum'][0]}/"
                                f"{thumbnail['checksum'][1]}/{thumbnail['checksum']}.png")
    subtitle = next(item for item in video["files"] if item["supplementary"])
    assert subtitle["lang"] == "en" and subtitle["extension"] == "vtt"
    mp4 = video["files"][0]
    assert mp4["file_size"] == len(b"media mp4")
    assert mp4["available"] is True and mp4["supplementary"] is False


def test_a_topic_has_no_files_and_no_thumbnail(client, media_channel, node_by_title):
    root = node_by_title(media_channel.channel_id, "media root")
    assert root["parent"] is None and root["kind"] == "topic"
    assert root["files"] == [] and root["thumbnail"] is None


def test_parent_gives_the_children_in_sort_order(client, media_channel, node_by_title):
    lesson = node_by_title(media_channel.channel_id, "media lesson")
    response = client.get(nodes_url(media_channel.channel_id), {"parent": lesson["id"]})
    results = response.json()["results"]
    assert [node["title"] for node in results] == ["media video", "media audio",
                                                   "media reading"]
    assert [node["sort_order"] for node in results] == [1.0, 2.0, 3.0]


def test_without_filters_the_list_is_in_tree_order(client, media_channel):
    titles = [node["title"] for node in
              client.get(nodes_url(media_channel.channel_id)).json()["results"]]
    assert titles == ["media root", "media lesson", "media video", "media audio",
                      "media reading", "media empty topic"]


def test_a_leaf_parent_has_no_children(client, media_channel, node_by_title):
    video = node_by_title(media_channel.channel_id, "media video")
    body = client.get(nodes_url(media_channel.channel_id), {"parent": video["id"]}).json()
    assert body["count"] == 0 and body["results"] == []


def test_kind_filters_by_kind(client, media_channel):
    body = client.get(nodes_url(media_channel.channel_id), {"kind": "topic"}).json()
    assert [node["title"] for node in body["results"]] == [
        "media root", "media lesson", "media empty topic"]
    body = client.get(nodes_url(media_channel.channel_id), {"kind": "audio"}).json()
    assert [node["title"] for node in body["results"]] == ["media audio"]
    assert client.get(nodes_url(media_channel.channel_id), {"kind": "exercise"}).json()[
        "count"] == 0


@pytest.mark.parametrize("search, titles", [
    ("VIDEO", ["media video"]),
    ("fractions", ["media lesson", "media video"]),  # descriptions too, case-insensitively
    ("song", ["media audio"]),
    ("  reading ", ["media reading"]),
    ("no such words", []),
    ("100%", []),  # LIKE wildcards are matched literally
    ("_", []),
])
def test_search_matches_title_and_description_ignoring_case(client, media_channel, search,
                                                            titles):
    body = client.get(nodes_url(media_channel.channel_id), {"search": search}).json()
    assert [node["title"] for node in body["results"]] == titles


def test_filters_combine(client, media_channel, node_by_title):
    lesson = node_by_title(media_channel.channel_id, "media lesson")
    body = client.get(nodes_url(media_channel.channel_id),
                      {"parent": lesson["id"], "kind": "video", "search": "fractions"}).json()
    assert [node["title"] for node in body["results"]] == ["media video"]


def test_an_empty_search_is_no_filter(client, media_channel):
    body = client.get(nodes_url(media_channel.channel_id), {"search": ""}).json()
    assert body["count"] == media_channel.node_count


@pytest.mark.parametrize("params", [
    {"parent": "a" * 31},
    {"parent": "A" * 32},
    {"parent": "a" * 32 + "\n"},
    {"parent": "0x" + "a" * 30},
    {"parent": "../" + "a" * 29},
    {"parent": ""},
    {"kind": "movie"},
    {"kind": "TOPIC"},
    {"search": "x" * 201},
])
def test_malformed_filter_values_answer_400(client, media_channel, params):
    response = client.get(nodes_url(media_channel.channel_id), params)
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_an_unknown_but_well_formed_parent_gives_an_empty_list(client, media_channel):
    body = client.get(nodes_url(media_channel.channel_id), {"parent": "f" * 32}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def flat_tree(children: int, with_files: bool = False) -> NodeSpec:
    return NodeSpec(title="big root", kind="topic", children=[
        NodeSpec(title=f"item {index:04d}", kind="document",
                 files=[FileSpec(preset="document", extension="pdf",
                                 source=f"%PDF {index}".encode())] if with_files else [])
        for index in range(children)])


def test_pages_follow_page_and_page_size(client, make_channel):
    channel = make_channel("paged", root=flat_tree(25))
    url = nodes_url(channel.channel_id)
    first = client.get(url, {"page_size": 10}).json()
    assert first["count"] == 26 and len(first["results"]) == 10 and first["previous"] is None
    assert "page=2" in first["next"] and "page_size=10" in first["next"]
    third = client.get(url, {"page_size": 10, "page": 3}).json()
    assert len(third["results"]) == 6 and third["next"] is None
    seen = [node["id"] for page in (1, 2, 3)
            for node in client.get(url, {"page_size": 10, "page": page}).json()["results"]]
    assert len(seen) == len(set(seen)) == 26


def test_the_default_page_has_50_and_page_size_stops_at_1000(client, make_channel):
    channel = make_channel("large", root=flat_tree(1050))
    url = nodes_url(channel.channel_id)
    assert len(client.get(url).json()["results"]) == 50
    body = client.get(url, {"page_size": 5000}).json()
    assert body["count"] == 1051 and len(body["results"]) == 1000


@pytest.mark.parametrize("page", ["99", "0", "-1", "x"])
def test_a_page_out_of_range_answers_404(client, media_channel, page):
    response = client.get(nodes_url(media_channel.channel_id), {"page": page})
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


def test_a_page_costs_the_same_queries_at_any_size(client, make_channel):
    """No N+1: the nodes, their files and their presence are one query each per page."""
    channel = make_channel("queries", root=flat_tree(120, with_files=True))
    url = nodes_url(channel.channel_id)
    client.get(url)  # warm the servable-channel cache and the connection
    counts = []
    for page_size in (5, 100):
        with CaptureQueriesContext(connections["default"]) as default_queries, \
                CaptureQueriesContext(connections[channel.channel_id]) as channel_queries:
            response = client.get(url, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        counts.append((len(channel_queries), len(default_queries)))
    assert counts[0] == counts[1]
    channel_count, default_count = counts[0]
    assert channel_count == 3  # count, nodes, files (with their LocalFile)
    assert default_count <= 2  # which files are present (and the channel gate, if not cached)
