"""The first admin is created without any prompt, once (accounts.services.ensure_initial_admin)."""

from __future__ import annotations

import dataclasses
import stat

import pytest

from accounts.models import User
from accounts.services import INITIAL_ADMIN_FILE, ensure_initial_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(tmp_path, settings):
    settings.HOME = tmp_path
    settings.CONFIG = dataclasses.replace(settings.CONFIG, admin_username="", admin_password="")
    return tmp_path


def test_it_creates_an_admin_with_a_random_password_printed_once(home):
    messages: list[str] = []
    user = ensure_initial_admin(announce=messages.append)
    assert user is not None and user.username == "admin" and user.is_admin
    assert user.is_superuser and user.is_staff
    saved = (home / INITIAL_ADMIN_FILE).read_text()
    password = saved.split("password: ", 1)[1].strip()
    assert len(password) >= 12
    assert User.objects.get(username="admin").check_password(password)
    assert len(messages) == 1 and password in messages[0]


def test_the_password_file_is_readable_by_the_owner_only(home):
    ensure_initial_admin(announce=lambda message: None)
    mode = stat.S_IMODE((home / INITIAL_ADMIN_FILE).stat().st_mode)
    assert mode == 0o600


def test_each_run_draws_a_new_random_password(home):
    ensure_initial_admin(announce=lambda message: None)
    first = (home / INITIAL_ADMIN_FILE).read_text()
    User.objects.all().delete()
    ensure_initial_admin(announce=lambda message: None)
    assert (home / INITIAL_ADMIN_FILE).read_text() != first


def test_it_uses_the_configured_username_and_password(home, settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, admin_username="head",
                                          admin_password="s3cret-pass")
    messages: list[str] = []
    user = ensure_initial_admin(announce=messages.append)
    assert user is not None and user.username == "head" and user.role == User.Role.ADMIN
    assert user.check_password("s3cret-pass")
    assert not (home / INITIAL_ADMIN_FILE).exists()
    assert "s3cret-pass" not in messages[0]


def test_it_never_creates_a_second_admin_or_changes_the_first(home):
    first = ensure_initial_admin(announce=lambda message: None)
    saved = (home / INITIAL_ADMIN_FILE).read_text()
    messages: list[str] = []
    assert ensure_initial_admin(announce=messages.append) is None
    assert messages == []
    assert User.objects.filter(role=User.Role.ADMIN).count() == 1
    assert (home / INITIAL_ADMIN_FILE).read_text() == saved
    assert User.objects.get(pk=first.pk).password == first.password


def test_an_existing_admin_means_no_new_one(home, admin_user):
    assert ensure_initial_admin(announce=lambda message: None) is None
    assert not (home / INITIAL_ADMIN_FILE).exists()
    assert list(User.objects.values_list("username", flat=True)) == ["alice"]


def test_the_admin_can_sign_in(home, client):
    ensure_initial_admin(announce=lambda message: None)
    password = (home / INITIAL_ADMIN_FILE).read_text().split("password: ", 1)[1].strip()
    response = client.post("/login/", {"username": "admin", "password": password})
    assert response.status_code == 302
