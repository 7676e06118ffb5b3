"""Who may read the content API: anyone with ALLOW_GUEST_ACCESS on, else signed-in users."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from tests.content.api_helpers import files_url, nodes_url

pytestmark = pytest.mark.django_db


def content_urls(channel_id: str, node_id: str) -> list[str]:
    return [nodes_url(channel_id), nodes_url(channel_id, node_id), files_url(channel_id),
            "/api/channels/", f"/api/channels/{channel_id}/",
            f"/content/databases/{channel_id}.sqlite3"]


def test_guests_read_everything_by_default(client, media_channel):
    root_id = media_channel_root(client, media_channel.channel_id)
    for url in content_urls(media_channel.channel_id, root_id):
        assert client.get(url).status_code == 200, url


def media_channel_root(client, channel_id: str) -> str:
    return client.get(nodes_url(channel_id)).json()["results"][0]["id"]


def test_without_guest_access_anonymous_readers_are_refused(client, media_channel, settings):
    root_id = media_channel_root(client, media_channel.channel_id)
    settings.ALLOW_GUEST_ACCESS = False
    for url in content_urls(media_channel.channel_id, root_id):
        response = client.get(url)
        assert response.status_code in (401, 403), url
        assert set(response.json()) == {"detail"}


def test_without_guest_access_a_signed_in_learner_reads(client, media_channel, settings,
                                                        learner_user):
    root_id = media_channel_root(client, media_channel.channel_id)
    settings.ALLOW_GUEST_ACCESS = False
    client.force_login(learner_user)
    for url in content_urls(media_channel.channel_id, root_id):
        assert client.get(url).status_code == 200, url


def test_without_guest_access_a_token_reads(client, media_channel, settings, learner_user):
    root_id = media_channel_root(client, media_channel.channel_id)
    settings.ALLOW_GUEST_ACCESS = False
    token = Token.objects.create(user=learner_user)
    response = client.get(nodes_url(media_channel.channel_id, root_id),
                          HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_content_api_is_read_only(client, media_channel, admin_user, method):
    client.force_login(admin_user)
    response = getattr(client, method)(nodes_url(media_channel.channel_id),
                                       content_type="application/json")
    assert response.status_code == 405
    assert set(response.json()) == {"detail"}
