"""The account pages: `/admin/users/...` (admins only) and `/account/password/` (anyone signed
in), through Django's test client."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "river-stone-42"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html_of(response) -> str:
    assert response.status_code == 200, response.content[:800]
    return response.content.decode()


def admin_paths(target: User) -> list[str]:
    return ["/admin/users/", "/admin/users/new/", "/admin/users/import/",
            f"/admin/users/{target.pk}/"]


def test_anonymous_visitors_are_sent_to_sign_in(client, learner_user):
    for path in admin_paths(learner_user) + ["/account/password/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    response = client.post(f"/admin/users/{learner_user.pk}/active/", {"is_active": "0"})
    assert response.status_code == 302
    assert User.objects.get(pk=learner_user.pk).is_active


@pytest.mark.parametrize("persona", ["author_user", "learner_user"])
def test_authors_and_learners_are_told_the_pages_are_not_for_them(request, persona,
                                                                   learner_user):
    client = signed_in(request.getfixturevalue(persona))
    for path in admin_paths(learner_user):
        response = client.get(path)
        assert response.status_code == 403 and "manage accounts" in response.content.decode()
    assert client.post(f"/admin/users/{learner_user.pk}/password/",
                       {"password": GOOD_PASSWORD}).status_code == 403
    assert client.post("/admin/users/new/", {"username": "sneaky", "role": "admin",
                                             "password": GOOD_PASSWORD}).status_code == 403
    assert not User.objects.filter(username="sneaky").exists()
    assert "Users</a>" not in html_of(client.get("/account/password/"))


def test_a_disabled_admin_is_sent_to_sign_in(admin_user, django_user_model):
    gone = django_user_model.objects.create_user("erin", password="x", role="admin",
                                                 is_active=False)
    response = signed_in(gone).get("/admin/users/")
    assert response.status_code == 302


def test_an_admin_lists_and_finds_accounts(admin_user, learner_user, author_user):
    client = signed_in(admin_user)
    html = html_of(client.get("/admin/users/"))
    assert "Users</a>" in html and 'aria-current="page">Users' in html
    assert all(name in html for name in ("alice", "bob", "charlie"))
    html = html_of(client.get("/admin/users/", {"role": "author"}))
    assert "bob" in html and "charlie" not in html
    html = html_of(client.get("/admin/users/", {"search": "char"}))
    assert "charlie" in html and "bob</a>" not in html


def test_an_admin_creates_an_account_who_then_signs_in(admin_user):
    client = signed_in(admin_user)
    html = html_of(client.get("/admin/users/new/"))
    assert 'name="username"' in html and 'name="password"' in html and "csrfmiddlewaretoken" in html
    response = client.post("/admin/users/new/", {"username": "amina", "full_name": "Amina K",
                                                 "role": "learner", "password": "12345"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "too short" in html and "entirely numeric" in html
    assert 'value="amina"' in html  # what was typed is kept
    response = client.post("/admin/users/new/", {"username": "amina", "full_name": "Amina K",
                                                 "role": "learner", "password": GOOD_PASSWORD})
    amina = User.objects.get(username="amina")
    assert response.status_code == 302 and response["Location"] == f"/admin/users/{amina.pk}/"
    assert "was created" in html_of(client.get(response["Location"]))
    assert Client().login(username="amina", password=GOOD_PASSWORD)


def test_an_admin_imports_a_csv_and_sees_the_bad_rows(admin_user):
    client = signed_in(admin_user)
    content = ("username,full_name,password,role\n"
               "amina,Amina,river-stone-42,\n"
               "alice,Again,river-stone-42,\n"
               "bongani,Bongani,river-stone-42,pilot\n").encode("utf-8-sig")
    html = html_of(client.post("/admin/users/import/",
                               {"file": SimpleUploadedFile("class.csv", content)}))
    assert "1 account created, 2 bad rows." in html
    assert re.search(r"<td>3</td><td>alice</td><td>username: The username &#x27;alice&#x27; "
                     r"is taken.</td>", html)
    assert re.search(r"<td>4</td><td>bongani</td><td>role: Choose one of", html)
    assert User.objects.filter(username="amina").exists()
    response = client.post("/admin/users/import/",
                           {"file": SimpleUploadedFile("x.csv", b"amina,A,river-stone-42\n")})
    assert response.status_code == 400 and "header" in response.content.decode()
    assert client.post("/admin/users/import/", {}).status_code == 400


def test_an_admin_sets_a_password_that_then_works(admin_user, learner_user):
    client = signed_in(admin_user)
    path = f"/admin/users/{learner_user.pk}/password/"
    response = client.post(path, {"password": "charlie1"})
    assert response.status_code == 400 and "similar to the username" in response.content.decode()
    response = client.post(path, {"password": GOOD_PASSWORD})
    assert response.status_code == 302
    assert Client().login(username="charlie", password=GOOD_PASSWORD)


def test_a_generated_password_is_shown_once(admin_user, learner_user):
    client = signed_in(admin_user)
    response = client.post(f"/admin/users/{learner_user.pk}/password/", {"generate": "1"})
    html = html_of(response)
    assert response["Cache-Control"] == "no-store"
    generated = re.search(r"<code data-generated-password>([^<]+)</code>", html).group(1)
    assert Client().login(username="charlie", password=generated)
    assert generated not in html_of(client.get(f"/admin/users/{learner_user.pk}/"))


def test_an_admin_disables_and_enables_an_account(admin_user, learner_user):
    client = signed_in(admin_user)
    path = f"/admin/users/{learner_user.pk}/active/"
    learner_browser = signed_in(learner_user)
    html = html_of(client.post(path, {"is_active": "0"}, follow=True))
    assert "was disabled" in html and "disabled: cannot sign in" in html
    assert not Client().login(username="charlie", password="charlie-pass")
    assert learner_browser.get("/account/password/").status_code == 302
    html = html_of(client.post(path, {"is_active": "1"}, follow=True))
    assert "was enabled" in html
    assert Client().login(username="charlie", password="charlie-pass")


def test_an_admin_cannot_disable_themselves_nor_the_last_admin(admin_user):
    client = signed_in(admin_user)
    html = html_of(client.post(f"/admin/users/{admin_user.pk}/active/", {"is_active": "0"},
                               follow=True))
    assert "cannot disable your own account" in html
    assert User.objects.get(pk=admin_user.pk).is_active


def test_an_admin_renames_and_changes_a_role(admin_user, learner_user):
    client = signed_in(admin_user)
    response = client.post(f"/admin/users/{learner_user.pk}/",
                           {"full_name": "Charlie Moyo", "role": "author"})
    assert response.status_code == 302
    learner_user.refresh_from_db()
    assert learner_user.get_full_name() == "Charlie Moyo" and learner_user.role == "author"
    response = client.post(f"/admin/users/{learner_user.pk}/", {"full_name": "", "role": "x"})
    assert response.status_code == 400 and "Choose one of" in response.content.decode()
    assert client.get("/admin/users/999999/").status_code == 404


def test_anyone_signed_in_changes_their_own_password_on_the_page(learner_user):
    client = signed_in(learner_user)
    html = html_of(client.get("/account/password/"))
    assert 'href="/account/password/"' in html  # the account menu links here
    response = client.post("/account/password/", {"old_password": "wrong",
                                                  "new_password": GOOD_PASSWORD,
                                                  "new_password_again": GOOD_PASSWORD})
    assert response.status_code == 400 and "current password is not right" in \
        response.content.decode()
    response = client.post("/account/password/", {"old_password": "charlie-pass",
                                                  "new_password": GOOD_PASSWORD,
                                                  "new_password_again": "other"})
    assert response.status_code == 400 and "differ" in response.content.decode()
    response = client.post("/account/password/", {"old_password": "charlie-pass",
                                                  "new_password": GOOD_PASSWORD,
                                                  "new_password_again": GOOD_PASSWORD},
                           follow=True)
    assert "Your password was changed." in html_of(response)  # and still signed in
    assert Client().login(username="charlie", password=GOOD_PASSWORD)
