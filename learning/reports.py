"""Authors' progress reports: for one course, every learner with anything in it.

The learners' rows come from the default database by `channel_id` (progress, attempts,
completions, certificates: four aggregate queries plus one for the users). What the course holds
comes from the channel's own database in one query: the id, kind and title of its non-topic
nodes (never the tree, never the files). The two are merged in Python (DESIGN.md: no join
across database files). Only nodes of the current version count, so a resource removed by a
re-publish no longer counts towards "completed", and a test added by one counts as not passed.

    channel = reportable_channel(request.user, channel_id)   # None: answer 404
    report = course_report(channel)
    report.rows[0].username, report.rows[0].best_scores, report.tests[0].title
    for cells in report_csv_rows(report): writer.writerow(cells)

"Resources" are the course's non-topic nodes other than tests; "tests" are its exercise nodes.
A test is passed when an attempt passed it, or when its progress row says completed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

from django.db.models import Count, Max, Q

from accounts.models import User
from channels.models import Channel
from content.constants import EXERCISE, TOPIC
from content.models import ContentNode
from learning.models import Attempt, Certificate, CourseCompletion, NodeProgress
from routers.context import using_content_database
from routers.errors import ChannelDatabaseNotFoundError
from routers.ids import is_valid_channel_id

# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection");
# tab and carriage return too, since some spreadsheets strip them before looking.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class TestColumn:
    node_id: str
    title: str


@dataclass(frozen=True)
class CourseContents:
    resource_ids: frozenset[str]
    tests: tuple[TestColumn, ...]


@dataclass
class LearnerRow:
    user_id: int
    username: str
    full_name: str
    is_active: bool
    resources_completed: int = 0
    tests_passed: int = 0
    # Aligned with CourseReport.tests: the best score (0-1) of each test, None if never tried.
    best_scores: list[float | None] = field(default_factory=list)
    attempts: int = 0
    completed_at: datetime | None = None
    certificate_code: str = ""


@dataclass
class CourseReport:
    channel: Channel
    resources_total: int
    tests: tuple[TestColumn, ...]
    rows: list[LearnerRow]

    @property
    def tests_total(self) -> int:
        return len(self.tests)


def reportable_channel(user: Any, channel_id: str) -> Channel | None:
    """The servable channel if `user` may see its report (an admin, or the author who owns it);
    None otherwise, which callers answer with 404 (someone else's course is private)."""
    if not (user and user.is_authenticated and getattr(user, "is_author", False)):
        return None
    if not is_valid_channel_id(channel_id):
        return None
    channel = Channel.objects.servable().filter(id=channel_id).first()
    if channel is None:
        return None
    if not getattr(user, "is_admin", False) and channel.owner_id != user.pk:
        return None
    return channel


def course_contents(channel_id: str) -> CourseContents:
    """The course's resources and tests, in tree order: one query on the channel's database."""
    try:
        with using_content_database(channel_id):
            nodes = list(ContentNode.objects.exclude(kind=TOPIC).order_by("lft")
                         .values_list("id", "kind", "title"))
    except ChannelDatabaseNotFoundError:
        # Deleted between the registry check and here: an empty course, not a crash.
        nodes = []
    return CourseContents(
        resource_ids=frozenset(node_id for node_id, kind, _title in nodes if kind != EXERCISE),
        tests=tuple(TestColumn(node_id, title) for node_id, kind, title in nodes
                    if kind == EXERCISE))


def course_report(channel: Channel) -> CourseReport:
    """Every learner with progress, attempts, a completion or a certificate in `channel`."""
    contents = course_contents(channel.id)
    test_index = {test.node_id: index for index, test in enumerate(contents.tests)}
    rows: dict[int, LearnerRow] = {}

    def row_of(user_id: int) -> LearnerRow:
        if user_id not in rows:
            rows[user_id] = LearnerRow(user_id=user_id, username="", full_name="",
                                       is_active=True, best_scores=[None] * len(contents.tests))
        return rows[user_id]

    passed: dict[int, set[str]] = defaultdict(set)
    for user_id, node_id, completed in (NodeProgress.objects.filter(channel_id=channel.id)
                                        .values_list("user_id", "node_id", "completed")):
        row = row_of(user_id)
        if completed and node_id in contents.resource_ids:
            row.resources_completed += 1
        elif completed and node_id in test_index:
            passed[user_id].add(node_id)
    for attempt in (Attempt.objects.filter(channel_id=channel.id).values("user_id", "node_id")
                    .annotate(best=Max("score"), count=Count("id"),
                              passes=Count("id", filter=Q(passed=True)))):
        row = row_of(attempt["user_id"])
        row.attempts += attempt["count"]
        index = test_index.get(attempt["node_id"])
        if index is None:
            continue  # a test no longer in the current version
        row.best_scores[index] = attempt["best"]
        if attempt["passes"]:
            passed[attempt["user_id"]].add(attempt["node_id"])
    for user_id, completed_at in (CourseCompletion.objects.filter(channel_id=channel.id)
                                  .values_list("user_id", "completed_at")):
        row_of(user_id).completed_at = completed_at
    # Oldest first, so the newest certificate wins if a learner somehow has two.
    for user_id, code in (Certificate.objects.filter(channel_id=channel.id)
                          .order_by("issued_at").values_list("user_id", "code")):
        row_of(user_id).certificate_code = code
    for user_id, node_ids in passed.items():
        rows[user_id].tests_passed = len(node_ids)
    for user_id, username, full_name, is_active in (
            User.objects.filter(pk__in=list(rows))
            .values_list("pk", "username", "first_name", "is_active")):
        rows[user_id].username, rows[user_id].full_name = username, full_name
        rows[user_id].is_active = is_active
    ordered = sorted(rows.values(), key=lambda row: ((row.full_name or row.username).lower(),
                                                     row.username))
    return CourseReport(channel=channel, resources_total=len(contents.resource_ids),
                        tests=contents.tests, rows=ordered)


def csv_safe(value: object) -> str:
    """The cell as text a spreadsheet shows and never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def percent(score: float | None) -> str:
    return "" if score is None else str(round(score * 100))


def report_csv_rows(report: CourseReport) -> Iterator[list[str]]:
    """The header, then one line per learner; every cell passed through `csv_safe`."""
    header = ["username", "full_name", "resources_completed", "resources_total",
              "tests_passed", "tests_total"]
    header += [f"best score % {test.title}" for test in report.tests]
    header += ["attempts", "completed_at", "certificate_code"]
    yield [csv_safe(cell) for cell in header]
    for row in report.rows:
        cells: list[object] = [row.username, row.full_name, row.resources_completed,
                               report.resources_total, row.tests_passed, report.tests_total]
        cells += [percent(score) for score in row.best_scores]
        cells += [row.attempts,
                  row.completed_at.isoformat(timespec="seconds") if row.completed_at else "",
                  row.certificate_code]
        yield [csv_safe(cell) for cell in cells]
