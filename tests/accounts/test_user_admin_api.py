"""The user API (`/api/users/`, `/api/account/password/`): each role against each endpoint, the
rules that keep the server manageable, and what a disabled account can no longer do."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "river-stone-42"


def api_as(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def disabled_user(django_user_model):
    return django_user_model.objects.create_user("erin", password="erin-pass", role="admin",
                                                 is_active=False)


def endpoints(target: User) -> list[tuple[str, str, dict]]:
    return [
        ("get", "/api/users/", {}),
        ("post", "/api/users/", {"username": "newbie", "password": GOOD_PASSWORD}),
        ("get", f"/api/users/{target.pk}/", {}),
        ("patch", f"/api/users/{target.pk}/", {"full_name": "Changed"}),
        ("post", f"/api/users/{target.pk}/password/", {}),
        ("post", "/api/users/import/", {}),
    ]


@pytest.mark.parametrize("index", range(6))
def test_only_admins_reach_the_user_api(index, admin_user, author_user, learner_user):
    method, path, body = endpoints(learner_user)[index]
    for user, expected in ((None, 401), (learner_user, 403), (author_user, 403)):
        response = getattr(api_as(user), method)(path, body, format="json")
        assert response.status_code == expected, (user, response.content)
        assert "detail" in response.json()
    response = getattr(api_as(admin_user), method)(path, body, format="json")
    assert response.status_code in (200, 201, 400), response.content  # import: no file, 400
    assert User.objects.get(pk=learner_user.pk).first_name in ("", "Changed")


@pytest.mark.parametrize("index", range(6))
def test_a_disabled_admins_token_opens_no_user_endpoint(index, disabled_user, learner_user):
    method, path, body = endpoints(learner_user)[index]
    token = Token.objects.create(user=disabled_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = getattr(client, method)(path, body, format="json")
    assert response.status_code == 401
    assert User.objects.get(pk=learner_user.pk).first_name == ""
    assert not User.objects.filter(username="newbie").exists()


def test_a_disabled_admin_is_refused_with_token_and_session(disabled_user):
    token = Token.objects.create(user=disabled_user)
    response = APIClient().get("/api/users/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 401
    client = Client()
    assert not client.login(username="erin", password="erin-pass")
    client.force_login(disabled_user)  # a session from before the account was disabled
    assert client.get("/api/users/").status_code in (401, 403)


def test_an_admin_creates_lists_and_reads_accounts(admin_user, learner_user):
    client = api_as(admin_user)
    response = client.post("/api/users/", {"username": "amina", "full_name": "Amina Khumalo",
                                           "role": "author", "password": GOOD_PASSWORD},
                           format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["username"] == "amina" and created["full_name"] == "Amina Khumalo"
    assert created["role"] == "author" and created["is_active"] is True
    assert "password" not in created
    assert Client().login(username="amina", password=GOOD_PASSWORD)

    listing = client.get("/api/users/", {"page_size": 2}).json()
    assert listing["count"] == 3 and len(listing["results"]) == 2 and listing["next"]
    assert [row["username"] for row in client.get("/api/users/", {"role": "author"})
            .json()["results"]] == ["amina"]
    assert client.get("/api/users/", {"search": "khumalo"}).json()["count"] == 1
    assert client.get(f"/api/users/{learner_user.pk}/").json()["username"] == "charlie"
    assert client.get("/api/users/999999/").status_code == 404


def test_creating_an_account_answers_every_bad_field(admin_user, learner_user):
    response = api_as(admin_user).post(
        "/api/users/", {"username": "Charlie", "role": "teacher", "password": "12345678"},
        format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and set(body["errors"]) == {"username", "role", "password"}
    assert "taken" in body["errors"]["username"][0]
    assert "Choose one of admin, author, learner" in body["errors"]["role"][0]
    assert any("numeric" in message for message in body["errors"]["password"])
    response = api_as(admin_user).post(
        "/api/users/", {"username": "has space", "password": "short"}, format="json")
    errors = response.json()["errors"]
    assert "letters, digits" in errors["username"][0]
    assert any("too short" in message for message in errors["password"])
    assert not User.objects.filter(username__in=["has space", "Charlie"]).exists()


def test_a_reset_password_signs_in_and_ends_old_sessions(admin_user, learner_user):
    old_session = Client()
    old_session.force_login(learner_user)
    response = api_as(admin_user).post(f"/api/users/{learner_user.pk}/password/",
                                       {"password": GOOD_PASSWORD}, format="json")
    assert response.status_code == 200 and "password" not in response.json()
    assert Client().login(username="charlie", password=GOOD_PASSWORD)
    assert not Client().login(username="charlie", password="charlie-pass")
    assert old_session.get("/account/password/").status_code == 302  # back to sign-in


def test_a_generated_password_is_shown_once_and_works(admin_user, learner_user):
    response = api_as(admin_user).post(f"/api/users/{learner_user.pk}/password/", {},
                                       format="json")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    generated = response.json()["password"]
    assert len(generated) >= 12
    assert Client().login(username="charlie", password=generated)
    assert generated not in api_as(admin_user).get(f"/api/users/{learner_user.pk}/") \
        .content.decode()


def test_a_weak_reset_password_is_refused(admin_user, learner_user):
    response = api_as(admin_user).post(f"/api/users/{learner_user.pk}/password/",
                                       {"password": "charlie1"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["password"]
    assert Client().login(username="charlie", password="charlie-pass")


def test_a_disabled_user_cannot_sign_in_nor_use_their_token_until_enabled(admin_user,
                                                                         learner_user):
    token = Token.objects.create(user=learner_user)
    assert APIClient().get("/api/account/password/", HTTP_AUTHORIZATION=f"Token {token.key}") \
        .status_code == 405  # the token works: only POST is allowed there
    browser = Client()
    browser.force_login(learner_user)
    response = api_as(admin_user).patch(f"/api/users/{learner_user.pk}/", {"is_active": False},
                                        format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert not Client().login(username="charlie", password="charlie-pass")
    response = APIClient().post("/api/account/password/", {},
                                HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 401
    assert browser.get("/account/password/").status_code == 302  # the session is gone
    api_as(admin_user).patch(f"/api/users/{learner_user.pk}/", {"is_active": True},
                             format="json")
    assert Client().login(username="charlie", password="charlie-pass")


def test_an_admin_cannot_disable_or_demote_themselves(admin_user, django_user_model):
    django_user_model.objects.create_user("other-admin", password="x", role="admin")
    for change in ({"is_active": False}, {"role": "learner"}):
        response = api_as(admin_user).patch(f"/api/users/{admin_user.pk}/", change,
                                            format="json")
        assert response.status_code == 400
        assert "your own" in str(response.json()["errors"])
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.role == "admin"


def test_the_last_active_admin_is_never_disabled_nor_demoted(admin_user, django_user_model):
    other = django_user_model.objects.create_user("other-admin", password="x", role="admin")
    # admin_user is now the only admin once `other` is disabled by them.
    assert api_as(admin_user).patch(f"/api/users/{other.pk}/", {"is_active": False},
                                    format="json").status_code == 200
    # A session of the disabled admin is refused, so simulate the race at the service level.
    from accounts.services import AccountInputError, update_account

    with pytest.raises(AccountInputError, match="last active admin"):
        update_account(other, admin_user, is_active=False)
    with pytest.raises(AccountInputError, match="last active admin"):
        update_account(other, admin_user, role="author")
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.role == "admin"


def test_a_bad_role_or_name_is_a_field_error(admin_user, learner_user):
    response = api_as(admin_user).patch(f"/api/users/{learner_user.pk}/",
                                        {"role": "pilot", "full_name": "x" * 151}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"role", "full_name"}
    assert User.objects.get(pk=learner_user.pk).role == "learner"


def test_a_demoted_admin_loses_the_admin_flags(admin_user, django_user_model):
    other = django_user_model.objects.create_user("other-admin", password="x", role="admin")
    response = api_as(admin_user).patch(f"/api/users/{other.pk}/",
                                        {"role": "author", "full_name": "Oli Other"},
                                        format="json")
    assert response.status_code == 200, response.content
    other.refresh_from_db()
    assert other.role == "author" and not other.is_superuser and not other.is_staff
    assert other.get_full_name() == "Oli Other"


def test_anyone_signed_in_changes_their_own_password(learner_user):
    client = APIClient()
    assert client.login(username="charlie", password="charlie-pass")
    response = client.post("/api/account/password/",
                           {"old_password": "wrong", "new_password": GOOD_PASSWORD},
                           format="json")
    assert response.status_code == 400 and "old_password" in response.json()["errors"]
    response = client.post("/api/account/password/",
                           {"old_password": "charlie-pass", "new_password": "123"},
                           format="json")
    assert response.status_code == 400 and "new_password" in response.json()["errors"]
    response = client.post("/api/account/password/",
                           {"old_password": "charlie-pass", "new_password": GOOD_PASSWORD},
                           format="json")
    assert response.status_code == 200, response.content
    # The session that changed it stays signed in.
    assert client.post("/api/account/password/", {}, format="json").status_code == 400
    assert Client().login(username="charlie", password=GOOD_PASSWORD)


def test_guests_cannot_change_a_password():
    response = APIClient().post("/api/account/password/",
                                {"old_password": "x", "new_password": GOOD_PASSWORD},
                                format="json")
    assert response.status_code == 401
