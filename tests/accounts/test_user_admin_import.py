"""`POST /api/users/import/`: the CSV upload through the API (the same reader as importusers)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts import csv_import
from accounts.models import User

pytestmark = pytest.mark.django_db


def upload(user, content: bytes):
    client = APIClient()
    client.force_authenticate(user)
    return client.post("/api/users/import/",
                       {"file": SimpleUploadedFile("class.csv", content, "text/csv")},
                       format="multipart")


def test_an_admin_imports_good_rows_and_hears_about_bad_ones(admin_user):
    response = upload(admin_user, "\ufeffusername,full_name,password,role\n"
                                  "amina,Amina,river-stone-42,\n"
                                  "alice,Alice again,river-stone-42,learner\n".encode())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == ["amina"]
    assert body["bad_rows"] == [{"row": 3, "username": "alice",
                                 "reason": "username: The username 'alice' is taken."}]
    assert body["detail"] == "1 account created, 1 bad row."


def test_a_file_without_header_is_a_field_error(admin_user):
    response = upload(admin_user, b"amina,Amina,river-stone-42,learner\n")
    assert response.status_code == 400
    body = response.json()
    assert "header" in body["errors"]["file"][0] and body["detail"]
    assert not User.objects.filter(username="amina").exists()


def test_a_file_over_the_cap_is_refused(admin_user, monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_FILE_BYTES", 100)
    response = upload(admin_user, b"username,password\n" + b"a" * 200)
    assert response.status_code == 400 and "larger than" in response.json()["errors"]["file"][0]


def test_learners_and_authors_cannot_import(author_user, learner_user):
    for user in (author_user, learner_user):
        assert upload(user, b"username,password\nzed,river-stone-42\n").status_code == 403
    assert not User.objects.filter(username="zed").exists()
