"""`GET /api/content/<channel_id>/contentnode/<node_id>/`: ancestors, rendering, 404s."""

from __future__ import annotations

import pytest

from tests.content.api_helpers import nodes_url

pytestmark = pytest.mark.django_db


def test_the_detail_has_the_list_fields_plus_ancestors_and_rendering(client, media_channel,
                                                                     node_by_title):
    listed = node_by_title(media_channel.channel_id, "media video")
    response = client.get(nodes_url(media_channel.channel_id, listed["id"]))
    assert response.status_code == 200
    detail = response.json()
    assert set(detail) == set(listed) | {"ancestors", "rendering"}
    assert {key: detail[key] for key in listed} == listed


def test_ancestors_go_from_the_root_down_to_the_parent(client, media_channel, node_by_title):
    video = node_by_title(media_channel.channel_id, "media video")
    root = node_by_title(media_channel.channel_id, "media root")
    lesson = node_by_title(media_channel.channel_id, "media lesson")
    detail = client.get(nodes_url(media_channel.channel_id, video["id"])).json()
    assert detail["ancestors"] == [{"id": root["id"], "title": "media root"},
                                   {"id": lesson["id"], "title": "media lesson"}]
    assert client.get(nodes_url(media_channel.channel_id, root["id"])).json()["ancestors"] == []


def test_a_video_renders_with_both_sources_and_its_captions(client, media_channel,
                                                            node_by_title):
    video = node_by_title(media_channel.channel_id, "media video")
    rendering = client.get(nodes_url(media_channel.channel_id, video["id"])).json()["rendering"]
    assert rendering["player"] == "video"
    assert rendering["essential_file"]["extension"] == "mp4"
    assert rendering["essential_file"]["mime_type"] == "video/mp4"
    assert [item["extension"] for item in rendering["alternatives"]] == ["webm"]
    assert [(item["extension"], item["lang"]) for item in rendering["supplementary_files"]] == [
        ("vtt", "en")]
    assert rendering["thumbnail"] == video["thumbnail"]


@pytest.mark.parametrize("title, player, extension", [
    ("media audio", "audio", "mp3"),
    ("media reading", "pdf", "pdf"),
])
def test_audio_and_pdf_get_their_players(client, media_channel, node_by_title, title, player,
                                         extension):
    node = node_by_title(media_channel.channel_id, title)
    rendering = client.get(nodes_url(media_channel.channel_id, node["id"])).json()["rendering"]
    assert rendering["player"] == player
    assert rendering["essential_file"]["extension"] == extension
    assert rendering["essential_file"]["url"] == node["files"][0]["url"]


def test_a_topic_renders_as_a_topic(client, media_channel, node_by_title):
    topic = node_by_title(media_channel.channel_id, "media empty topic")
    rendering = client.get(nodes_url(media_channel.channel_id, topic["id"])).json()["rendering"]
    assert rendering["player"] == "topic" and rendering["essential_file"] is None


@pytest.mark.parametrize("node_id", [
    "f" * 32,  # well-formed, unknown
    "F" * 32,
    "f" * 31,
    "f" * 33,
    "f" * 32 + "%0A",
    "0x" + "f" * 30,
    "{" + "f" * 30 + "}",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "%D9%A3" * 32,
    "..",
])
def test_unknown_or_malformed_node_ids_answer_404_json(client, media_channel, node_id):
    response = client.get(nodes_url(media_channel.channel_id, node_id))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}


def test_a_node_of_another_channel_is_not_found_here(client, media_channel, make_channel,
                                                     node_by_title):
    other = make_channel("other")
    video = node_by_title(media_channel.channel_id, "media video")
    assert client.get(nodes_url(other.channel_id, video["id"])).status_code == 404
    assert client.get(nodes_url(media_channel.channel_id, video["id"])).status_code == 200
