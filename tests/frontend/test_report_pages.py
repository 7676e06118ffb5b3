"""The authors' progress report pages: `/author/courses/<channel_id>/progress/` and its CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from channels.models import Channel
from learning.models import Attempt, NodeProgress

pytestmark = pytest.mark.django_db

COURSE_ID = "0123456789abcdef0123456789abcdef"
PAGE = f"/author/courses/{COURSE_ID}/progress/"
CSV_PATH = f"/author/courses/{COURSE_ID}/progress.csv"


@pytest.fixture
def course(make_channel, author_user) -> Channel:
    built = make_channel("algebra", channel_id=COURSE_ID, topics=1, leaves=2)
    Channel.objects.filter(id=COURSE_ID).update(owner=author_user)
    return Channel.objects.get(id=built.channel_id)


@pytest.fixture
def learner_progress(course, learner_user, django_user_model):
    from content.models import ContentNode
    from routers.context import using_content_database

    with using_content_database(COURSE_ID):
        first_leaf = ContentNode.objects.filter(kind="document").order_by("lft").first().id
    learner_user.first_name = "Charlie Moyo"
    learner_user.save()
    NodeProgress.objects.create(user=learner_user, channel_id=COURSE_ID, node_id=first_leaf,
                                content_id=first_leaf, kind="document", progress=1.0,
                                completed=True)
    tricky = django_user_model.objects.create_user("=cmd", password="x",
                                                   first_name="=HYPERLINK(\"http://evil\")")
    Attempt.objects.create(user=tricky, channel_id=COURSE_ID, node_id="e" * 32,
                           content_id="e" * 32, version=1, score=0.5, passed=False)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", [PAGE, CSV_PATH])
def test_anonymous_visitors_are_sent_to_sign_in(client, course, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("path", [PAGE, CSV_PATH])
def test_learners_and_other_authors_get_404(course, learner_user, django_user_model, path):
    other_author = django_user_model.objects.create_user("eve", password="x", role="author")
    for user in (learner_user, other_author):
        assert signed_in(user).get(path).status_code == 404
    assert signed_in(other_author).get(path.replace(COURSE_ID, "f" * 32)).status_code == 404


def test_a_disabled_owner_is_sent_to_sign_in(course, author_user):
    client = signed_in(author_user)
    author_user.is_active = False
    author_user.save()
    assert client.get(PAGE).status_code == 302


@pytest.mark.parametrize("persona", ["author_user", "admin_user"])
def test_the_owner_and_admins_see_the_table(request, course, learner_progress, persona):
    response = signed_in(request.getfixturevalue(persona)).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Progress in Algebra" in html
    assert "Charlie Moyo" in html and "<code>charlie</code>" in html
    assert "1 / 2" in html and "0 / 0" in html  # resources completed; the course has no tests
    assert f'href="{CSV_PATH}"' in html and "Download CSV" in html
    assert "=HYPERLINK(&quot;http://evil&quot;)" in html  # escaped, shown as text


def test_the_csv_download_is_a_safe_table(course, learner_progress, author_user):
    response = signed_in(author_user).get(CSV_PATH)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="progress-{COURSE_ID}.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:6] == ["username", "full_name", "resources_completed", "resources_total",
                           "tests_passed", "tests_total"]
    by_username = {row[0]: row for row in rows[1:]}
    assert by_username["charlie"][1:6] == ["Charlie Moyo", "1", "2", "0", "0"]
    tricky = by_username["'=cmd"]
    assert tricky[1] == "'=HYPERLINK(\"http://evil\")"
    assert tricky[-3] == "1"  # one attempt, at a test not in the course any more
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
