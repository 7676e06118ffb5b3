"""Scripts authenticate with `Authorization: Token <key>`; pages with the session."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


@pytest.fixture
def guests_off(settings):
    settings.ALLOW_GUEST_ACCESS = False


def test_anonymous_callers_are_told_to_sign_in_when_guests_are_off(client, guests_off,
                                                                   make_channel):
    response = client.get("/api/channels/")
    assert response.status_code in (401, 403)
    assert "Sign in" in response.json()["detail"]


def test_a_token_opens_the_api(client, guests_off, learner_user, make_channel):
    built = make_channel("tokens")
    call_command("drf_create_token", learner_user.username, stdout=open("/dev/null", "w"))
    key = Token.objects.get(user=learner_user).key
    response = client.get("/api/channels/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [built.channel_id]


def test_a_wrong_token_is_refused(client, guests_off):
    response = client.get("/api/channels/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert response.status_code == 401


def test_a_session_opens_the_api(client, guests_off, learner_user, make_channel):
    make_channel("sessions")
    client.force_login(learner_user)
    assert client.get("/api/channels/").status_code == 200


def test_learners_cannot_write_through_the_read_api(client, learner_user, make_channel):
    built = make_channel("writes")
    client.force_login(learner_user)
    response = client.post(f"/api/content/{built.channel_id}/contentnode/", {})
    assert response.status_code in (403, 405)
