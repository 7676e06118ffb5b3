from __future__ import annotations

from typing import Any

import pytest

from tests.content.api_helpers import media_tree, nodes_url


@pytest.fixture
def media_channel(make_channel):
    """A channel with a video, an audio and a PDF under one topic (see `media_tree`)."""
    return make_channel("media", root=media_tree("media"))


@pytest.fixture
def node_by_title(client):
    """Look up a node of a channel by title through the API: `node_by_title(channel_id, "x")`."""

    def find(channel_id: str, title: str) -> dict[str, Any]:
        response = client.get(nodes_url(channel_id), {"page_size": 1000})
        assert response.status_code == 200, response.content
        matches = [node for node in response.json()["results"] if node["title"] == title]
        assert len(matches) == 1, title
        return matches[0]

    return find
