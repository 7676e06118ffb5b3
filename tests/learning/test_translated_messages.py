"""The learning API answers learners in their language: refused attempts and progress reports,
certificates not found, and the verification page's JSON. Field names in the sentences
(`answers`, `progress`) and the JSON keys stay English, as scripts send and compare them."""

from __future__ import annotations

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from learning.models import Certificate
from tests.learning.conftest import question, quiz

pytestmark = pytest.mark.django_db

MISSING_CERTIFICATE = "/api/certificates/00000000-0000-4000-8000-000000000000/"


def speaking(language: str, user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_authenticate(user)
    return client


def one_question_course(make_course, label: str, **options):
    return make_course(label, tests=[quiz("Quiz", [question("2+2?", [("4", True), ("5", False)])],
                                          **options)])


def attempt(client, course, answers):
    return client.post("/api/attempts/", {"channel_id": course.channel_id,
                                          "node_id": course.test_ids[0], "answers": answers},
                       format="json")


def test_an_attempt_with_bad_answers_is_refused_in_french(make_course, learner_user):
    course = one_question_course(make_course, "fr-bad")
    client = speaking("fr", learner_user)
    response = attempt(client, course, ["0"])
    assert response.status_code == 400
    assert response.json() == {"detail": 'answers doit être un objet : {"<question id>": '
                                         '["<choice id>", ...]}.'}
    unknown = attempt(client, course, {"zz": ["0"]})
    assert unknown.status_code == 400
    assert unknown.json()["detail"] == ("Ce test ne contient pas ces questions : zz. "
                                        "Rechargez le test.")
    started = client.post("/api/attempts/", {
        "channel_id": course.channel_id, "node_id": course.test_ids[0], "answers": {},
        "started_at": "yesterday"}, format="json")
    assert started.status_code == 400 and started.json()["detail"].startswith(
        "started_at doit être une date et une heure ISO 8601")


def test_an_attempt_with_bad_answers_is_refused_in_arabic_and_english(make_course, learner_user):
    course = one_question_course(make_course, "ar-bad")
    arabic = attempt(speaking("ar", learner_user), course, {"zz": ["0"]})
    assert arabic.status_code == 400
    assert arabic.json()["detail"] == "لا توجد هذه الأسئلة في هذا الاختبار: zz. أعد تحميل الاختبار."
    english = attempt(speaking("en", learner_user), course, {"zz": ["0"]})
    assert english.json()["detail"] == "No such question in this test: zz. Reload the test."


def test_the_last_attempt_used_is_counted_in_french_and_in_arabic_dual(make_course, learner_user):
    course = one_question_course(make_course, "limit", max_attempts=2)
    for _ in range(2):
        assert attempt(speaking("en", learner_user), course, {}).status_code == 201
    french = attempt(speaking("fr", learner_user), course, {})
    assert french.status_code == 409
    assert french.json()["detail"].startswith("Vous avez utilisé les 2 tentatives permises")
    arabic = attempt(speaking("ar", learner_user), course, {})
    # Two is Arabic's dual: its own plural form, not the one for 3 to 10.
    assert arabic.status_code == 409
    assert arabic.json()["detail"].startswith("لقد استخدمت محاولتيك (2)")


def test_a_missing_certificate_is_not_found_in_french_and_arabic(learner_user):
    french = speaking("fr", learner_user).get(MISSING_CERTIFICATE)
    assert french.status_code == 404
    assert french.json() == {
        "detail": "Aucun certificat de ce nom parmi les vôtres. Voyez /api/certificates/."}
    malformed = speaking("fr", learner_user).get("/api/certificates/not-an-id/pdf/")
    assert malformed.status_code == 404 and malformed.json()["detail"].startswith("Aucun")
    arabic = speaking("ar", learner_user).get(MISSING_CERTIFICATE)
    assert arabic.status_code == 404
    assert arabic.json() == {"detail": "لا توجد شهادة كهذه بين شهاداتك. انظر /api/certificates/."}


def test_a_guest_is_asked_to_sign_in_in_french(client):
    response = speaking("fr").get(MISSING_CERTIFICATE)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Connectez-vous pour passer les tests")


def test_a_progress_report_is_refused_in_french_and_arabic(make_course, learner_user):
    course = one_question_course(make_course, "progress")
    body = {"channel_id": course.channel_id, "node_id": course.video_ids[0], "progress": 2}
    french = speaking("fr", learner_user).post("/api/progress/", body, format="json")
    assert french.status_code == 400
    assert french.json() == {
        "detail": "progress doit être un nombre de 0 à 1 (0.5 correspond à la moitié)."}
    topic = {**body, "node_id": course.root_id, "progress": 0.5}
    arabic = speaking("ar", learner_user).post("/api/progress/", topic, format="json")
    assert arabic.status_code == 400
    assert arabic.json() == {
        "detail": "ليس للموضوع تقدّم خاص به؛ أبلغ عن تقدّم الموارد التي يحتويها."}
    unknown = speaking("fr", learner_user).post(
        "/api/progress/", {**body, "node_id": "a" * 32, "progress": 0.5}, format="json")
    assert unknown.status_code == 404 and unknown.json()["detail"].startswith(
        "Cet élément n’existe pas dans ce cours.")


def test_an_unknown_verification_code_is_explained_in_french(client):
    response = client.get("/certificates/verify/K7QXM2PA9RTBWN4C/?format=json",
                          headers={"accept-language": "fr"})
    assert response.status_code == 404
    body = response.json()
    assert body["genuine"] is False and body["code"] == "K7QXM2PA9RTBWN4C"
    assert body["detail"].startswith("Ce serveur n’a délivré aucun certificat portant ce code.")


def test_certificate_states_have_labels_of_their_own_in_french_and_arabic():
    # "failed" is also a task state (feminine in French): the certificate's label is its own.
    with translation.override("fr"):
        assert [str(label) for label in Certificate.State.labels] == [
            "en préparation", "prêt", "échoué"]
    with translation.override("ar"):
        assert str(Certificate.State.READY.label) == "جاهزة"
    assert Certificate.State.READY == "ready"
