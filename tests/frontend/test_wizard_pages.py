"""The authors' pages through Django's test client: who may open "My courses" and the wizard,
that a draft of someone else is a 404, and that "New course" and "Edit (new version)" start the
right drafts."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from authoring.models import Draft
from channels.models import Channel

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html_of(response) -> str:
    assert response.status_code == 200, response.content[:800]
    return response.content.decode()


def embedded_draft(html: str) -> dict:
    found = re.search(r'<script id="draft-data" type="application/json">(.*?)</script>', html,
                      flags=re.S)
    assert found, "the wizard page embeds the draft's JSON"
    return json.loads(found.group(1))


@pytest.mark.parametrize("path", ["/author/", "/author/drafts/new/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path) if path == "/author/" else client.post(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_anonymous_visitors_are_sent_to_sign_in_from_a_draft(client, author_user):
    draft = Draft.objects.create(owner=author_user)
    response = client.get(f"/author/drafts/{draft.id}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_learners_are_told_the_pages_are_not_for_them(learner_user, author_user):
    client = signed_in(learner_user)
    draft = Draft.objects.create(owner=author_user)
    for response in (client.get("/author/"), client.get(f"/author/drafts/{draft.id}/"),
                     client.post("/author/drafts/new/")):
        assert response.status_code == 403
        assert "Not allowed" in response.content.decode()
    assert Draft.objects.count() == 1


def test_an_author_sees_their_drafts_and_not_anothers(author_user, django_user_model):
    other = django_user_model.objects.create_user("erin", password="erin-pass", role="author")
    mine = Draft.objects.create(owner=author_user, name="Fractions", step=2)
    theirs = Draft.objects.create(owner=other, name="Secret plans")
    client = signed_in(author_user)
    html = html_of(client.get("/author/"))
    assert "Fractions" in html and "step 2 of 4" in html and f"/author/drafts/{mine.id}/" in html
    assert "Secret plans" not in html
    assert client.get(f"/author/drafts/{theirs.id}/").status_code == 404
    assert client.get("/author/drafts/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_an_admin_sees_every_draft_and_opens_it(admin_user, author_user):
    draft = Draft.objects.create(owner=author_user, name="Fractions")
    client = signed_in(admin_user)
    html = html_of(client.get("/author/"))
    assert "Fractions" in html and "by bob" in html
    assert embedded_draft(html_of(client.get(f"/author/drafts/{draft.id}/")))["id"] == str(draft.id)


def test_the_header_links_my_courses_for_authors_only(author_user, learner_user):
    assert 'href="/author/"' in html_of(signed_in(author_user).get("/"))
    assert 'href="/author/"' not in html_of(signed_in(learner_user).get("/"))


def test_new_course_starts_a_draft_and_opens_the_wizard_on_its_step(author_user):
    client = signed_in(author_user)
    response = client.post("/author/drafts/new/")
    draft = Draft.objects.get(owner=author_user)
    assert response.status_code == 302 and response["Location"] == f"/author/drafts/{draft.id}/"
    Draft.objects.filter(id=draft.id).update(step=3, name="Fractions", topics=["Halves"])
    html = html_of(client.get(response["Location"]))
    data = embedded_draft(html)
    assert data["step"] == 3 and data["topics"] == ["Halves"] and data["files"] == []
    # Every step and the controls the script drives are in the page.
    for step in ("1", "2", "3", "4"):
        assert f'data-step="{step}"' in html and f'data-goto="{step}"' in html
    assert "data-cancel-draft" in html and "data-publish" in html and "/static/frontend/tus.js" in html
    # The script talks to the drafts API of this very draft.
    assert f'data-draft-url="/api/drafts/{draft.id}/"' in html
    assert f'data-files-url="/api/drafts/{draft.id}/files/"' in html


def test_edit_opens_a_draft_of_the_next_version(author_user, make_channel):
    built = make_channel("maths")
    Channel.objects.filter(id=built.channel_id).update(owner=author_user)
    channel = Channel.objects.get(id=built.channel_id)
    client = signed_in(author_user)
    # Imported (no draft made its version): listed, but it cannot be edited here.
    html = html_of(client.get("/author/"))
    assert channel.name in html and "Edit (new version)" not in html
    Draft.objects.create(owner=author_user, channel_id=channel.id, name=channel.name,
                         state=Draft.State.PUBLISHED, published_version=channel.version)
    html = html_of(client.get("/author/"))
    assert "Edit (new version)" in html and f'value="{channel.id}"' in html
    response = client.post("/author/drafts/new/", {"channel_id": channel.id})
    draft = Draft.objects.get(owner=author_user, state=Draft.State.OPEN)
    assert response["Location"] == f"/author/drafts/{draft.id}/"
    assert draft.channel_id == channel.id and draft.base_version == channel.version
    # While that draft is open, the course offers to continue it instead of a second one.
    html = html_of(client.get("/author/"))
    assert "Continue the new version" in html and "Edit (new version)" not in html


def test_editing_a_channel_of_someone_else_is_refused(author_user, make_channel):
    built = make_channel("science")
    response = signed_in(author_user).post("/author/drafts/new/",
                                           {"channel_id": built.channel_id}, follow=True)
    assert "Not started" in html_of(response)
    assert not Draft.objects.exists()
