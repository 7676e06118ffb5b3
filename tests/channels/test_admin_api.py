"""Channel administration over the API: versions, revert and delete (INTERFACE.md), for admins
and for the author who owns the channel; real channels with two versions each."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from channels.locks import channel_lock
from channels.models import Channel, ChannelVersion
from channels.versions import version_database_path
from routers.registry import channel_database_path

pytestmark = pytest.mark.django_db

CHANNEL_ID = "0123456789abcdef0123456789abcdef"
VERSION_FIELDS = {"number", "created_at", "source", "created_by", "version_label", "name",
                  "node_count", "file_count", "total_size", "database_size", "current"}
ROLES = ["anonymous", "learner_user", "outsider_author", "author_user", "admin_user"]


@pytest.fixture
def maths(make_channel, author_user) -> Channel:
    """Bob's channel, published twice: version 2 (3 topics) is current."""
    make_channel("maths", channel_id=CHANNEL_ID, topics=2, version_label="autumn")
    make_channel("maths", channel_id=CHANNEL_ID, topics=3, version_label="spring")
    Channel.objects.filter(id=CHANNEL_ID).update(owner=author_user)
    ChannelVersion.objects.filter(channel_id=CHANNEL_ID, number=2).update(created_by=author_user)
    return Channel.objects.get(id=CHANNEL_ID)


@pytest.fixture
def outsider_author(django_user_model):
    return django_user_model.objects.create_user("erin", password="erin-pass", role="author")


def client_for(request, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    return client


def revert(client: Client, body: object, channel_id: str = CHANNEL_ID):
    return client.post(f"/api/channels/{channel_id}/revert/", json.dumps(body),
                       content_type="application/json")


EXPECTED = {"anonymous": 401, "learner_user": 403, "outsider_author": 403, "author_user": 200,
            "admin_user": 200}


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_the_versions(request, maths, role):
    response = client_for(request, role).get(f"/api/channels/{CHANNEL_ID}/versions/")
    assert response.status_code == EXPECTED[role]
    if response.status_code != 200:
        assert set(response.json()) == {"detail"}
        return
    body = response.json()
    assert body["count"] == 2
    newest, oldest = body["results"]
    assert set(newest) == VERSION_FIELDS
    assert (newest["number"], newest["current"], newest["version_label"]) == (2, True, "spring")
    assert (oldest["number"], oldest["current"], oldest["version_label"]) == (1, False, "autumn")
    assert newest["created_by"] == "bob" and oldest["created_by"] is None
    assert newest["source"] == "published" and newest["name"] == "Maths"
    assert newest["node_count"] > oldest["node_count"]
    assert newest["file_count"] == 9 and oldest["file_count"] == 6
    assert newest["total_size"] > oldest["total_size"] > 0


@pytest.mark.parametrize("role", ROLES)
def test_who_may_revert(request, maths, role):
    response = revert(client_for(request, role), {"version": 1})
    assert response.status_code == EXPECTED[role]
    current = Channel.objects.get(id=CHANNEL_ID).version
    assert current == (1 if EXPECTED[role] == 200 else 2)


def test_a_revert_serves_the_old_file_at_once(request, maths):
    client = client_for(request, "author_user")
    old_node_count = ChannelVersion.objects.get(channel_id=CHANNEL_ID, number=1).node_count
    response = revert(client, {"version": 1})
    body = response.json()
    assert body["id"] == CHANNEL_ID and body["version"] == 1
    assert body["version_label"] == "autumn" and body["node_count"] == old_node_count
    served = channel_database_path(CHANNEL_ID)
    assert served.stat().st_ino == version_database_path(CHANNEL_ID, 1).stat().st_ino or \
        served.read_bytes() == version_database_path(CHANNEL_ID, 1).read_bytes()
    assert client.get(f"/api/channels/{CHANNEL_ID}/").json()["version"] == 1
    listed = client.get(f"/api/channels/{CHANNEL_ID}/versions/").json()["results"]
    assert [(item["number"], item["current"]) for item in listed] == [(2, False), (1, True)]
    # And forward again: the number is kept, not renumbered.
    assert revert(client, {"version": 2}).json()["version"] == 2


@pytest.mark.parametrize("body", [{}, {"version": "two"}, {"version": True}, {"version": 1.5},
                                  {"version": -1}, [1], {"version": None}])
def test_bad_revert_input_is_400(request, maths, body):
    response = revert(client_for(request, "admin_user"), body)
    assert response.status_code == 400
    assert "detail" in response.json()
    assert Channel.objects.get(id=CHANNEL_ID).version == 2


def test_an_unknown_version_is_404(request, maths):
    response = revert(client_for(request, "admin_user"), {"version": 7})
    assert response.status_code == 404
    assert response.json() == {"detail": f"channel {CHANNEL_ID} has no version 7 on this "
                                         f"server; `channelversions {CHANNEL_ID}` lists them"}


def test_a_busy_channel_is_409(request, maths):
    client = client_for(request, "admin_user")
    with channel_lock(CHANNEL_ID):
        assert revert(client, {"version": 1}).status_code == 409
        response = client.delete(f"/api/channels/{CHANNEL_ID}/")
    assert response.status_code == 409 and "another operation" in response.json()["detail"]
    assert Channel.objects.get(id=CHANNEL_ID).version == 2


@pytest.mark.parametrize("channel_id", ["f" * 32, "F" * 32, "f" * 31, "0x" + "f" * 30])
def test_unknown_or_malformed_channels_are_404(request, maths, channel_id):
    client = client_for(request, "admin_user")
    assert client.get(f"/api/channels/{channel_id}/versions/").status_code == 404
    assert revert(client, {"version": 1}, channel_id).status_code == 404
    assert client.delete(f"/api/channels/{channel_id}/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_who_may_delete(request, maths, role):
    response = client_for(request, role).delete(f"/api/channels/{CHANNEL_ID}/")
    expected = 204 if EXPECTED[role] == 200 else EXPECTED[role]
    assert response.status_code == expected
    assert Channel.objects.filter(id=CHANNEL_ID).exists() == (expected != 204)


def test_a_delete_removes_the_channel_and_its_versions(request, maths, make_channel):
    other = make_channel("science")
    client = client_for(request, "author_user")
    assert client.delete(f"/api/channels/{CHANNEL_ID}/").content == b""
    assert not channel_database_path(CHANNEL_ID).exists()
    assert not version_database_path(CHANNEL_ID, 1).exists()
    assert not ChannelVersion.objects.filter(channel_id=CHANNEL_ID).exists()
    assert client.get(f"/api/channels/{CHANNEL_ID}/").status_code == 404
    assert [item["id"] for item in client.get("/api/channels/").json()["results"]] == [
        other.channel_id]
    assert client.delete(f"/api/channels/{CHANNEL_ID}/").status_code == 404


def test_a_rejected_channel_can_still_be_reverted_or_deleted(request, maths):
    Channel.objects.filter(id=CHANNEL_ID).update(state=Channel.State.REJECTED,
                                                 problem="file changed on disk")
    client = client_for(request, "admin_user")
    assert client.get(f"/api/channels/{CHANNEL_ID}/").status_code == 404, "not served"
    listed = client.get(f"/api/channels/{CHANNEL_ID}/versions/").json()["results"]
    assert not any(item["current"] for item in listed)
    assert revert(client, {"version": 2}).status_code == 200
    assert Channel.objects.get(id=CHANNEL_ID).state == Channel.State.AVAILABLE
    assert client.delete(f"/api/channels/{CHANNEL_ID}/").status_code == 204


def test_session_actions_need_the_csrf_token(maths, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.delete(f"/api/channels/{CHANNEL_ID}/").status_code == 403
    assert revert(client, {"version": 1}).status_code == 403
    assert Channel.objects.get(id=CHANNEL_ID).version == 2
