"""Sign-in and sign-out pages (django.contrib.auth's views with our template)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_login_page_has_a_form_with_csrf_protection(client):
    response = client.get("/login/?next=/channels/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<form method="post" action="/login/"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="username"' in html and 'name="password"' in html
    assert '<input type="hidden" name="next" value="/channels/">' in html


def test_login_without_csrf_token_is_refused(learner_user):
    strict_client = Client(enforce_csrf_checks=True)
    response = strict_client.post("/login/", {"username": "charlie", "password": "charlie-pass"})
    assert response.status_code == 403


def test_a_learner_signs_in_and_lands_where_they_were_going(client, learner_user):
    response = client.post("/login/", {"username": "charlie", "password": "charlie-pass",
                                       "next": "/no-such-page/"})
    assert response.status_code == 302 and response["Location"] == "/no-such-page/"
    assert "Sign out" in client.get("/").content.decode()


def test_a_sign_in_never_redirects_to_another_host(client, learner_user):
    response = client.post("/login/", {"username": "charlie", "password": "charlie-pass",
                                       "next": "http://elsewhere.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_wrong_password_shows_an_error_and_keeps_the_username(client, learner_user):
    response = client.post("/login/", {"username": "charlie", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html and "correct username and password" in html
    assert re.search(r'name="username"[^>]*value="charlie"', html)
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_and_ends_the_session(client, learner_user):
    client.force_login(learner_user)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in client.session
    assert "Sign in" in client.get("/").content.decode()


def test_login_page_is_reachable_with_guest_access_off(client, settings):
    settings.ALLOW_GUEST_ACCESS = False
    response = client.get("/login/")
    assert response.status_code == 200
    assert "Sign in to see the content on this server." in response.content.decode()
