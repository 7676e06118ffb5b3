"""Messages written by Python code come back in the request's language: API errors
(`{"detail"}`, field errors), the task API's labels and summaries, and what admins read.
Machine words (`state`, `kind`, `stage`, field names) stay English, as scripts compare them."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from jobs.models import Job

pytestmark = pytest.mark.django_db


def signed_in(user, language: str) -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


# Tasks

def finished_scan(admin_user) -> Job:
    return Job.objects.create(kind="scan", state=Job.State.DONE, progress=100, stage="files",
                              created_by=admin_user, stages={"files": [1, 1], "bytes": [9, 9]},
                              result={"registered": ["a"], "rejected": {}, "missing": []})


def test_a_task_says_its_state_kind_and_summary_in_french(admin_user):
    job = finished_scan(admin_user)
    body = signed_in(admin_user, "fr").get(f"/api/tasks/{job.id}/").json()
    assert (body["state"], body["kind"], body["stage"]) == ("done", "scan", "files")
    assert body["state_label"] == "terminée"
    assert body["stage_label"] == "fichiers"
    assert body["stage_labels"] == {"files": "fichiers", "bytes": "octets"}
    assert body["kind_label"] == "Analyser de nouveau le dossier des bases de données"
    assert body["summary"] == "1 enregistrées, 0 refusées, 0 manquantes"


def test_a_task_says_its_state_in_arabic_and_english(admin_user):
    job = finished_scan(admin_user)
    arabic = signed_in(admin_user, "ar").get(f"/api/tasks/{job.id}/").json()
    assert arabic["state"] == "done" and arabic["state_label"] == "انتهت"
    english = signed_in(admin_user, "en").get(f"/api/tasks/{job.id}/").json()
    assert english["state_label"] == "done" and english["kind_label"] == "Rescan the databases folder"
    assert english["summary"] == "1 registered, 0 rejected, 0 missing"


def test_a_missing_task_answers_in_the_request_language(admin_user):
    path = "/api/tasks/00000000-0000-4000-8000-000000000000/"
    french = signed_in(admin_user, "fr").get(path)
    assert french.status_code == 404
    assert french.json()["detail"].startswith("aucune tâche 00000000-0000-4000-8000-000000000000")
    arabic = signed_in(admin_user, "ar").get(path)
    assert arabic.status_code == 404 and arabic.json()["detail"].startswith("لا توجد مهمة")


def test_a_bad_task_parameter_is_explained_in_french_under_its_english_field(admin_user):
    response = signed_in(admin_user, "fr").post(
        "/api/tasks/", json.dumps({"kind": "export", "channel_id": "nope", "drive": "/"}),
        content_type="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["channel_id"] == [
        "un identifiant de chaîne compte 32 caractères hexadécimaux en minuscules"]


# The API's own sentences

def test_an_unknown_api_address_answers_in_french_and_arabic(client):
    french = client.get("/api/no-such-thing/", headers={"accept-language": "fr"})
    assert french.status_code == 404 and french.json() == {
        "detail": "Introuvable. Vérifiez l’adresse."}
    arabic = client.get("/api/no-such-thing/", headers={"accept-language": "ar"})
    assert arabic.json() == {"detail": "غير موجود. تحقّق من العنوان."}


def test_signing_in_first_is_asked_in_french(client):
    response = client.get("/api/tasks/", headers={"accept-language": "fr"})
    assert response.status_code in (401, 403)
    assert response.json()["detail"].startswith("Connectez-vous d’abord : il faut un compte.")


# Accounts

def test_an_admin_cannot_disable_themselves_and_is_told_so_in_french(admin_user):
    response = signed_in(admin_user, "fr").patch(
        f"/api/users/{admin_user.pk}/", json.dumps({"is_active": False}),
        content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]["is_active"] == [
        "Vous ne pouvez pas désactiver votre propre compte ni vous retirer le rôle "
        "d’administrateur ; demandez à un autre administrateur."]


def test_a_learner_is_refused_the_account_list_in_arabic(learner_user):
    response = signed_in(learner_user, "ar").get("/api/users/")
    assert response.status_code == 403
    assert response.json() == {"detail": "لا يمكن القيام بهذا إلا لمسؤول هذا الخادم."}


def test_a_csv_import_reports_in_french(admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv_file = SimpleUploadedFile("class.csv", b"username,password\nzola,a-long-pass-phrase\n"
                                  b"zola,another-long-phrase\n", content_type="text/csv")
    response = signed_in(admin_user, "fr").post("/api/users/import/", {"file": csv_file})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["detail"] == "1 compte créé, 1 ligne incorrecte."
    assert body["bad_rows"][0]["reason"] == "username : figure aussi à la ligne 2 de ce fichier."


# What admins read about the server

def test_the_admin_pages_clock_warning_is_in_french_and_arabic(admin_user, make_channel,
                                                               monkeypatch):
    import datetime as dt

    from operations import diagnostics

    built = make_channel("maths")
    monkeypatch.setattr(diagnostics, "current_time",
                        lambda: dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3))
    french = signed_in(admin_user, "fr").get("/admin/channels/").content.decode()
    assert "L’horloge semble fausse" in french
    assert f"la chaîne {built.channel_id} version 1" in french
    assert "The clock looks wrong" not in french
    arabic = signed_in(admin_user, "ar").get("/admin/channels/").content.decode()
    assert "يبدو أن الساعة خاطئة" in arabic and "The clock looks wrong" not in arabic


def test_the_health_checks_explain_themselves_in_french(client):
    body = client.get("/healthz/", headers={"accept-language": "fr"}).json()
    # Names and statuses are for monitors; messages and actions are for people.
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["message"].startswith(
        "la base de données par défaut (")
    assert body["checks"]["database"]["message"].endswith(") répond")
    assert body["checks"]["channel_databases"]["message"].endswith("fichier de chaîne") or \
        "fichiers de chaîne" in body["checks"]["channel_databases"]["message"]


# Channels

def test_an_unknown_channel_and_version_answer_in_french_and_arabic(admin_user, make_channel):
    missing = signed_in(admin_user, "fr").get(f"/api/channels/{'0' * 32}/versions/")
    assert missing.status_code == 404
    assert missing.json()["detail"].startswith("Aucune chaîne de ce nom sur ce serveur.")
    channel_id = make_channel("maths").channel_id
    response = signed_in(admin_user, "ar").post(
        f"/api/channels/{channel_id}/revert/", json.dumps({"version": 9}),
        content_type="application/json")
    assert response.status_code == 404
    assert response.json()["detail"].startswith(f"ليس للقناة {channel_id} إصدار 9")


# The course wizard's checks

def test_the_wizard_checks_answer_an_author_in_french_and_arabic(author_user):
    from authoring.models import Draft

    draft = Draft.objects.create(owner=author_user)
    response = signed_in(author_user, "fr").patch(
        f"/api/drafts/{draft.id}/", json.dumps({"step": 9, "test_sets": [{"title": ""}]}),
        content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Le brouillon a des champs non valides ou manquants ; voir `errors`."
    assert body["errors"]["step"] == "doit être 1, 2, 3 ou 4"
    missing = signed_in(author_user, "ar").get("/api/drafts/00000000-0000-4000-8000-000000000000/")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "لا توجد هذه المسودة. مسوداتك مدرجة في /api/drafts/."


# Content and search

def test_a_bad_search_is_explained_in_french_and_arabic(client):
    french = client.get("/api/search/?q=", headers={"accept-language": "fr"})
    assert french.status_code == 400
    assert french.json()["detail"] == "`q` est obligatoire : les mots à rechercher."
    arabic = client.get("/api/search/?q=maths&kind=nope", headers={"accept-language": "ar"})
    assert arabic.status_code == 400 and arabic.json()["detail"].startswith(
        "يجب أن يكون `kind` إحدى القيم:")


def test_an_author_is_told_in_arabic_that_a_channel_is_not_theirs(author_user, make_channel):
    channel_id = make_channel("maths").channel_id
    response = signed_in(author_user, "ar").get(f"/admin/channels/{channel_id}/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "لا يمكن إدارة هذه القناة إلا لمسؤول أو للمؤلف المالك لها." in html
    assert "Only an admin or the author" not in html


def test_a_missing_stored_file_is_explained_in_french(client):
    response = client.get(f"/content/storage/a/b/ab{'0' * 30}.mp4",
                          headers={"accept-language": "fr"})
    assert response.status_code == 404
    assert response.json()["detail"].startswith(
        "Aucun fichier de ce nom dans le stockage de contenu de ce serveur.")


def test_a_refused_upload_is_explained_in_french(author_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from authoring.models import Draft

    draft = Draft.objects.create(owner=author_user)
    upload = SimpleUploadedFile("setup.exe", b"MZ not a course file", content_type="text/plain")
    response = signed_in(author_user, "fr").post(f"/api/drafts/{draft.id}/files/",
                                                 {"file": upload})
    assert response.status_code == 415, response.content
    assert response.json()["detail"].startswith(
        "Les fichiers « .exe » ne peuvent pas faire partie d’un cours. Autorisés : ")


def test_the_accounts_page_names_roles_in_french(admin_user, learner_user):
    html = signed_in(admin_user, "fr").get("/admin/users/").content.decode()
    assert "<td>administrateur</td>" in html and "<td>apprenant</td>" in html
    assert "<td>learner</td>" not in html
