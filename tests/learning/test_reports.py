"""learning/reports.py: who may see a course's report, what it counts, and its CSV cells."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from django.db import connections
from django.test.utils import CaptureQueriesContext

from channels.builder import NodeSpec
from channels.models import Channel
from learning import reports
from learning.models import Attempt, Certificate, CourseCompletion, NodeProgress

pytestmark = pytest.mark.django_db

COURSE_ID = "c0ffee00c0ffee00c0ffee00c0ffee00"


def course_tree() -> NodeSpec:
    """Two documents, a video and two tests, in two topics."""
    return NodeSpec(title="root", kind="topic", children=[
        NodeSpec(title="Week 1", kind="topic", children=[
            NodeSpec(title="Reading", kind="document", id="d1" * 16),
            NodeSpec(title="Clip", kind="video", id="b1" * 16),
            NodeSpec(title="=Quiz one", kind="exercise", id="e1" * 16),
        ]),
        NodeSpec(title="Week 2", kind="topic", children=[
            NodeSpec(title="Notes", kind="document", id="d2" * 16),
            NodeSpec(title="Final test", kind="exercise", id="e2" * 16),
        ]),
    ])


@pytest.fixture
def course(make_channel, author_user) -> Channel:
    make_channel("course", channel_id=COURSE_ID, root=course_tree())
    Channel.objects.filter(id=COURSE_ID).update(owner=author_user)
    return Channel.objects.get(id=COURSE_ID)


def progress(user, node: str, kind: str, completed: bool = True) -> None:
    NodeProgress.objects.create(user=user, channel_id=COURSE_ID, node_id=node * 16,
                                content_id=node * 16, kind=kind, completed=completed,
                                progress=1.0 if completed else 0.4)


def attempt(user, node: str, score: float, passed: bool) -> None:
    Attempt.objects.create(user=user, channel_id=COURSE_ID, node_id=node * 16,
                           content_id=node * 16, version=1, score=score, passed=passed)


def test_only_admins_and_the_owner_see_the_report(course, admin_user, author_user,
                                                   learner_user, django_user_model):
    other_author = django_user_model.objects.create_user("eve", password="x", role="author")
    assert reports.reportable_channel(admin_user, COURSE_ID) == course
    assert reports.reportable_channel(author_user, COURSE_ID) == course
    assert reports.reportable_channel(other_author, COURSE_ID) is None
    assert reports.reportable_channel(learner_user, COURSE_ID) is None
    assert reports.reportable_channel(admin_user, "f" * 32) is None
    assert reports.reportable_channel(admin_user, COURSE_ID.upper()) is None
    author_user.is_active = False
    assert reports.reportable_channel(author_user, COURSE_ID) is None


def test_the_report_counts_each_learner_in_the_current_version(course, learner_user,
                                                               outsider_user, author_user):
    learner_user.first_name = "Charlie Moyo"
    learner_user.save()
    progress(learner_user, "d1", "document")
    progress(learner_user, "b1", "video")
    progress(learner_user, "d2", "document", completed=False)
    progress(learner_user, "0f", "document")  # a resource removed by a later version
    attempt(learner_user, "e1", 0.5, False)
    attempt(learner_user, "e1", 0.9, True)
    attempt(learner_user, "e2", 0.6, False)
    completion = CourseCompletion.objects.create(user=outsider_user, channel_id=COURSE_ID,
                                                 version=1)
    Certificate.objects.create(user=outsider_user, completion=completion, channel_id=COURSE_ID,
                               course_name="Course", version=1, learner_name="dana",
                               server_name="room 12", code="ABCD1234")
    progress(outsider_user, "e2", "exercise")  # passed, as its progress row says
    # Someone else's course: not in this report.
    NodeProgress.objects.create(user=author_user, channel_id="a" * 32, node_id="d1" * 16,
                                content_id="d1" * 16, kind="document", completed=True)

    report = reports.course_report(course)
    assert report.resources_total == 3 and report.tests_total == 2
    assert [test.title for test in report.tests] == ["=Quiz one", "Final test"]
    assert [row.username for row in report.rows] == ["charlie", "dana"]
    charlie, dana = report.rows
    assert charlie.full_name == "Charlie Moyo"
    assert (charlie.resources_completed, charlie.tests_passed, charlie.attempts) == (2, 1, 3)
    assert charlie.best_scores == [0.9, 0.6]
    assert charlie.completed_at is None and charlie.certificate_code == ""
    assert (dana.resources_completed, dana.tests_passed, dana.attempts) == (0, 1, 0)
    assert dana.best_scores == [None, None]
    assert dana.completed_at is not None and dana.certificate_code == "ABCD1234"


def test_the_report_reads_the_channel_database_once(course, learner_user):
    progress(learner_user, "d1", "document")
    reports.course_report(course)  # registers the channel's alias (done on first use)
    with CaptureQueriesContext(connections[COURSE_ID]) as channel_queries:
        reports.course_report(course)
    assert len(channel_queries.captured_queries) == 1
    sql = channel_queries.captured_queries[0]["sql"]
    assert "NOT" in sql and "'topic'" in sql  # topics are left in the database
    assert '"description"' not in sql  # three columns, not whole rows


def test_a_course_without_learners_has_no_rows(course):
    report = reports.course_report(course)
    assert report.rows == [] and report.resources_total == 3


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("plain", "plain"), (3, "3"), (None, ""), ("a=b", "a=b"),
])
def test_csv_cells_never_start_a_formula(value, cell):
    assert reports.csv_safe(value) == cell


@given(st.text())
def test_a_safe_cell_shows_the_value_and_never_starts_a_formula(value):
    cell = reports.csv_safe(value)
    assert not cell.startswith(reports.FORMULA_PREFIXES)
    assert cell == value or cell == "'" + value


def test_csv_rows_have_a_header_and_safe_cells(course, django_user_model):
    tricky = django_user_model.objects.create_user("+bob", password="x", first_name="@home")
    attempt(tricky, "e2", 0.75, False)
    CourseCompletion.objects.filter(user=tricky).delete()
    rows = list(reports.report_csv_rows(reports.course_report(course)))
    assert rows[0] == ["username", "full_name", "resources_completed", "resources_total",
                       "tests_passed", "tests_total", "best score % =Quiz one",
                       "best score % Final test",
                       "attempts", "completed_at", "certificate_code"]
    assert rows[1] == ["'+bob", "'@home", "0", "3", "0", "2", "", "75", "1", "", ""]


def test_completion_dates_are_iso_in_the_csv(course, learner_user):
    completion = CourseCompletion.objects.create(user=learner_user, channel_id=COURSE_ID,
                                                 version=1)
    CourseCompletion.objects.filter(pk=completion.pk).update(
        completed_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc))
    rows = list(reports.report_csv_rows(reports.course_report(course)))
    assert rows[1][-2] == "2026-03-04T05:06:07+00:00"
