"""`available`: the channel file's value, and for a resource, its essential files present here."""

from __future__ import annotations

import pytest

from storage.models import StoredFile
from storage.paths import storage_path
from tests.content.api_helpers import nodes_url

pytestmark = pytest.mark.django_db


def plant_missing(checksum: str, extension: str) -> None:
    """The file is gone from this server: its bytes and its row in the registry."""
    storage_path(checksum, extension).unlink()
    StoredFile.objects.filter(checksum=checksum).delete()


def file_of(node: dict, preset: str) -> dict:
    return next(item for item in node["files"] if item["preset"] == preset)


def test_everything_is_available_when_every_file_is_here(client, media_channel):
    body = client.get(nodes_url(media_channel.channel_id)).json()
    assert all(node["available"] for node in body["results"] if node["kind"] != "topic")


def test_a_resource_whose_essential_file_is_missing_is_unavailable(client, media_channel,
                                                                   node_by_title):
    reading = node_by_title(media_channel.channel_id, "media reading")
    pdf = file_of(reading, "document")
    plant_missing(pdf["checksum"], "pdf")
    reading = node_by_title(media_channel.channel_id, "media reading")
    assert reading["available"] is False
    assert file_of(reading, "document")["available"] is False
    detail = client.get(nodes_url(media_channel.channel_id, reading["id"])).json()
    assert detail["available"] is False
    # Its siblings and its topic are as the channel file says.
    assert node_by_title(media_channel.channel_id, "media audio")["available"] is True
    assert node_by_title(media_channel.channel_id, "media lesson")["available"] is True


def test_one_missing_video_source_makes_the_video_unavailable(client, media_channel,
                                                              node_by_title):
    video = node_by_title(media_channel.channel_id, "media video")
    plant_missing(file_of(video, "low_res_video")["checksum"], "webm")
    assert node_by_title(media_channel.channel_id, "media video")["available"] is False


def test_a_missing_caption_or_thumbnail_does_not_make_a_video_unavailable(client,
                                                                         media_channel,
                                                                         node_by_title):
    video = node_by_title(media_channel.channel_id, "media video")
    plant_missing(file_of(video, "video_subtitle")["checksum"], "vtt")
    plant_missing(file_of(video, "video_thumbnail")["checksum"], "png")
    video = node_by_title(media_channel.channel_id, "media video")
    assert video["available"] is True
    assert file_of(video, "video_subtitle")["available"] is False
    # A thumbnail whose bytes are not here is not offered (no broken image).
    assert video["thumbnail"] is None


def test_an_empty_topic_is_as_the_channel_file_says(client, media_channel, node_by_title):
    # The builder marks a topic with no available child unavailable.
    assert node_by_title(media_channel.channel_id, "media empty topic")["available"] is False
    assert node_by_title(media_channel.channel_id, "media root")["available"] is True
