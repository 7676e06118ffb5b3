"""Publish a draft: once, as the channel's next version, with stable ids across versions."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from authoring.models import Draft, DraftFile
from authoring.publish import encode_finished
from channels.models import Channel, ChannelVersion
from tests.authoring.factories import PDF, PNG, stored_draft_file

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def new_draft(user, **fields) -> Draft:
    values = {"name": "Fractions", "version_label": "spring", "description": "Halves and more",
              "topics": ["Halves", "Quarters"], **fields}
    return Draft.objects.create(owner=user, **values)


def video_outputs(tag: bytes) -> dict[str, object]:
    from storage.files import put_file

    return {"mp4": put_file(b"mp4 " + tag, "mp4").checksum,
            "webm": put_file(b"webm " + tag, "webm").checksum,
            "ogv": put_file(b"ogv " + tag, "ogv").checksum,
            "png": put_file(PNG, "png").checksum, "duration": 2.4}


def children(client, channel_id: str, parent: str) -> list[dict]:
    response = client.get(f"/api/content/{channel_id}/contentnode/", {"parent": parent})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_publish_builds_the_course_grouped_by_topic(author_user):
    draft = new_draft(author_user)
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document", description="Read first")
    stored_draft_file(draft, PDF + b"2", "quarters.pdf", file_type="document", topic="Quarters")
    stored_draft_file(draft, b"video source", "halves.mp4", file_type="video", topic="Halves",
                      outputs=video_outputs(b"halves"))
    stored_draft_file(draft, PNG, "question.png", file_type="image", usage="test")
    client = api(author_user)
    response = client.post(f"/api/drafts/{draft.id}/publish/")
    assert response.status_code == 201, response.json()
    assert response.json()["channel_id"] == draft.channel_id and response.json()["version"] == 1
    channel = Channel.objects.get(id=draft.channel_id)
    assert channel.name == "Fractions" and channel.version_label == "spring"
    assert channel.owner_id == author_user.pk
    top = children(client, channel.id, channel.root_id)
    assert [(node["title"], node["kind"]) for node in top] == [
        ("Halves", "topic"), ("Quarters", "topic"), ("intro", "document")]
    video = children(client, channel.id, top[0]["id"])[0]
    assert video["kind"] == "video" and video["available"] is True
    assert sorted(item["extension"] for item in video["files"]) == ["mp4", "ogv", "png", "webm"]
    detail = client.get(f"/api/content/{channel.id}/contentnode/{video['id']}/").json()
    sources = [detail["rendering"]["essential_file"]["extension"],
               *[item["extension"] for item in detail["rendering"]["alternatives"]]]
    assert sources == ["mp4", "webm", "ogv"]
    draft.refresh_from_db()
    assert draft.state == "published" and draft.published_version == 1


def test_a_draft_publishes_once(author_user):
    draft = new_draft(author_user)
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    client = api(author_user)
    assert client.post(f"/api/drafts/{draft.id}/publish/").status_code == 201
    again = client.post(f"/api/drafts/{draft.id}/publish/")
    assert again.status_code == 409 and "already published" in again.json()["detail"]
    assert ChannelVersion.objects.filter(channel_id=draft.channel_id).count() == 1
    assert client.patch(f"/api/drafts/{draft.id}/", {"name": "x"},
                        format="json").status_code == 409
    assert client.delete(f"/api/drafts/{draft.id}/").status_code == 409


@pytest.mark.django_db(transaction=True)
def test_two_publishes_at_once_make_one_version(author_user):
    draft = new_draft(author_user)
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def publish() -> None:
        try:
            client = api(author_user)
            barrier.wait(timeout=10)
            statuses.append(client.post(f"/api/drafts/{draft.id}/publish/").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201, 409]
    assert ChannelVersion.objects.filter(channel_id=draft.channel_id).count() == 1


def test_what_stops_a_publish_is_said_and_nothing_is_made(author_user):
    draft = new_draft(author_user, name="")
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document",
                      state=DraftFile.State.UPLOADING)
    response = api(author_user).post(f"/api/drafts/{draft.id}/publish/")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "files"}
    draft.refresh_from_db()
    assert draft.state == "open"
    assert not Channel.objects.filter(id=draft.channel_id).exists()


def test_editing_a_course_makes_the_next_version_and_keeps_ids(author_user):
    draft = new_draft(author_user)
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    stored_draft_file(draft, PDF + b"q", "quarters.pdf", file_type="document", topic="Quarters")
    client = api(author_user)
    assert client.post(f"/api/drafts/{draft.id}/publish/").status_code == 201
    channel = Channel.objects.get(id=draft.channel_id)
    before = {node["title"]: node for node in children(client, channel.id, channel.root_id)}

    edit = client.post("/api/drafts/", {"channel_id": draft.channel_id}, format="json")
    assert edit.status_code == 201, edit.json()
    body = edit.json()
    assert body["base_version"] == 1 and body["name"] == "Fractions"
    assert [item["name"] for item in body["files"]] == ["intro.pdf", "quarters.pdf"]
    assert client.patch(f"/api/drafts/{body['id']}/", {"name": "Fractions II"},
                        format="json").status_code == 200
    published = client.post(f"/api/drafts/{body['id']}/publish/")
    assert published.status_code == 201 and published.json()["version"] == 2
    channel.refresh_from_db()
    assert channel.name == "Fractions II" and channel.version == 2
    after = {node["title"]: node for node in children(client, channel.id, channel.root_id)}
    for title in ("intro", "Quarters"):
        assert after[title]["id"] == before[title]["id"]
        assert after[title]["content_id"] == before[title]["content_id"]


def test_someone_elses_course_cannot_be_edited(author_user, django_user_model):
    draft = new_draft(author_user)
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    assert api(author_user).post(f"/api/drafts/{draft.id}/publish/").status_code == 201
    other = django_user_model.objects.create_user("other-author", password="pw", role="author")
    response = api(other).post("/api/drafts/", {"channel_id": draft.channel_id}, format="json")
    assert response.status_code == 404


def test_videos_still_encoding_join_the_course_when_their_encode_ends(author_user):
    draft = new_draft(author_user, topics=[])
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    video = stored_draft_file(draft, b"raw video bytes", "lesson.mov", file_type="video",
                              state=DraftFile.State.PROCESSING)
    client = api(author_user)
    response = client.post(f"/api/drafts/{draft.id}/publish/")
    assert response.status_code == 201 and response.json()["waiting_videos"] == 1
    channel = Channel.objects.get(id=draft.channel_id)
    node = {item["title"]: item for item in children(client, channel.id, channel.root_id)}
    assert node["lesson"]["available"] is False and node["lesson"]["files"] == []

    DraftFile.objects.filter(checksum=video.checksum).update(
        state=DraftFile.State.FINISHED, outputs=video_outputs(b"lesson"))
    assert encode_finished(video.checksum) == [2]
    channel.refresh_from_db()
    assert channel.version == 2
    node = {item["title"]: item for item in children(client, channel.id, channel.root_id)}
    assert node["lesson"]["available"] is True
    assert node["lesson"]["id"] == video.node_id
    draft.refresh_from_db()
    assert draft.awaiting_encodes is False and draft.published_version == 2
    assert encode_finished(video.checksum) == []


def test_a_newer_publish_wins_over_a_late_encode(author_user):
    draft = new_draft(author_user, topics=[])
    video = stored_draft_file(draft, b"raw video bytes", "lesson.mov", file_type="video",
                              state=DraftFile.State.PROCESSING)
    stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    client = api(author_user)
    assert client.post(f"/api/drafts/{draft.id}/publish/").status_code == 201
    edit = client.post("/api/drafts/", {"channel_id": draft.channel_id}, format="json").json()
    file_id = next(item["id"] for item in edit["files"] if item["name"] == "lesson.mov")
    DraftFile.objects.filter(id=file_id).delete()
    assert client.post(f"/api/drafts/{edit['id']}/publish/").status_code == 201
    DraftFile.objects.filter(checksum=video.checksum).update(
        state=DraftFile.State.FINISHED, outputs=video_outputs(b"late"))
    assert encode_finished(video.checksum) == []
    assert Channel.objects.get(id=draft.channel_id).version == 2
