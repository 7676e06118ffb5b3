"""`/api/drafts/`: create, read, change and resume drafts; who sees what."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from authoring.models import Draft

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_an_author_creates_a_draft_and_resumes_it_on_the_step_they_left(author_user):
    client = api(author_user)
    created = client.post("/api/drafts/", {}, format="json")
    assert created.status_code == 201
    draft_id = created.json()["id"]
    assert created.json()["state"] == "open" and created.json()["step"] == 1
    changed = client.patch(f"/api/drafts/{draft_id}/", {
        "name": "  Fractions ", "version_label": "spring term", "description": "Halves",
        "topics": ["Halves", " Quarters "], "require_videos": True, "step": 2}, format="json")
    assert changed.status_code == 200, changed.json()
    again = client.get(f"/api/drafts/{draft_id}/").json()
    assert again["name"] == "Fractions" and again["topics"] == ["Halves", "Quarters"]
    assert again["step"] == 2 and again["require_videos"] is True
    assert again["files"] == []
    assert set(again["publish_problems"]) == {"content"}
    listed = client.get("/api/drafts/").json()
    assert [item["id"] for item in listed["results"]] == [draft_id]


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": 5}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"topics": "Halves"}, "topics"),
    ({"topics": ["a", "a"]}, "topics"),
    ({"require_videos": "yes"}, "require_videos"),
    ({"step": 5}, "step"),
    ({"step": True}, "step"),
    ({"state": "published"}, "state"),
    ({"owner": 1}, "owner"),
])
def test_invalid_changes_are_refused_and_nothing_is_saved(author_user, changes, field):
    client = api(author_user)
    draft_id = client.post("/api/drafts/", {}, format="json").json()["id"]
    response = client.patch(f"/api/drafts/{draft_id}/", {"version_label": "kept?", **changes},
                            format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"] and response.json()["detail"]
    assert Draft.objects.get(id=draft_id).version_label == ""


def test_drafts_are_private_to_their_author_and_admins(author_user, admin_user,
                                                      django_user_model, learner_user):
    other = django_user_model.objects.create_user("other-author", password="pw", role="author")
    draft_id = api(author_user).post("/api/drafts/", {}, format="json").json()["id"]
    assert api(other).get(f"/api/drafts/{draft_id}/").status_code == 404
    assert api(other).patch(f"/api/drafts/{draft_id}/", {"name": "x"},
                            format="json").status_code == 404
    assert api(other).delete(f"/api/drafts/{draft_id}/").status_code == 404
    assert api(other).get("/api/drafts/").json()["count"] == 0
    assert api(admin_user).get(f"/api/drafts/{draft_id}/").status_code == 200
    assert api(learner_user).get("/api/drafts/").status_code == 403
    assert api(learner_user).post("/api/drafts/", {}, format="json").status_code == 403
    assert api().get("/api/drafts/").status_code in (401, 403)


@pytest.mark.parametrize("bad_id", ["nope", "0" * 32, "ABCDEF01-0000-0000-0000-000000000000",
                                    "12345678-1234-1234-1234-123456789012\n"])
def test_malformed_or_unknown_draft_ids_are_404(author_user, bad_id):
    assert api(author_user).get(f"/api/drafts/{bad_id}/").status_code == 404


def test_token_authentication_works_for_scripts(author_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=author_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.post("/api/drafts/", {}, format="json").status_code == 201
