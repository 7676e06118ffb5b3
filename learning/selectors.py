"""Reads for the learning API: one node of a channel, a learner's progress, course summaries.

The summary per course ("my courses") crosses channels without loading any channel's tree:
the learner's rows come from the default database in three queries (progress, completions,
certificates) plus one for the channel registry; then each channel the learner has anything in
gets exactly one aggregate query on its own database, which counts its resources and tests and
how many of the learner's completed nodes are still in the current version. The results are
merged in Python (DESIGN.md: no join across files).

    course_summaries(user)                  # every course the learner started
    course_summaries(user, channel_id=cid)  # one
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy

from channels.models import Channel
from channels.selectors import is_channel_servable
from content.constants import EXERCISE, TOPIC
from content.models import ContentNode
from learning.errors import LearningNotFoundError
from learning.models import Certificate, CourseCompletion, NodeProgress
from learning.questions import validate_ids
from routers.context import using_content_database
from routers.errors import ChannelDatabaseNotFoundError

NODE_NOT_FOUND = gettext_lazy("No such item in this course. Browse the course to find it.")


@dataclass(frozen=True)
class ChannelNode:
    id: str
    kind: str
    content_id: str


def find_channel_node(channel_id: str, node_id: str) -> ChannelNode:
    """A node of the current version of a channel (LearningNotFoundError if none)."""
    validate_ids(channel_id, node_id)
    if not is_channel_servable(channel_id):
        raise LearningNotFoundError(NODE_NOT_FOUND)
    try:
        with using_content_database(channel_id):
            row = ContentNode.objects.filter(id=node_id).values("kind", "content_id").first()
    except ChannelDatabaseNotFoundError:
        raise LearningNotFoundError(NODE_NOT_FOUND) from None
    if row is None:
        raise LearningNotFoundError(NODE_NOT_FOUND)
    return ChannelNode(id=node_id, kind=row["kind"], content_id=row["content_id"])


def node_progress(user, channel_id: str | None = None) -> QuerySet[NodeProgress]:
    rows = NodeProgress.objects.filter(user=user)
    if channel_id is not None:
        rows = rows.filter(channel_id=channel_id)
    return rows.order_by("channel_id", "node_id")


def user_certificates(user) -> QuerySet[Certificate]:
    return Certificate.objects.filter(user=user).order_by("-issued_at")


def channel_counts(channel_id: str, completed_node_ids: list[str]) -> dict[str, int] | None:
    """One aggregate query on the channel's database; None when the channel is not here."""
    if not is_channel_servable(channel_id):
        return None
    resources = ~Q(kind=TOPIC)
    done = Q(id__in=completed_node_ids)
    try:
        with using_content_database(channel_id):
            return ContentNode.objects.aggregate(
                total_resources=Count("id", filter=resources),
                completed_resources=Count("id", filter=resources & done),
                tests_total=Count("id", filter=Q(kind=EXERCISE)),
                tests_passed=Count("id", filter=Q(kind=EXERCISE) & done))
    except ChannelDatabaseNotFoundError:
        return None


def course_summaries(user, channel_id: str | None = None) -> list[dict[str, Any]]:
    progress_rows = node_progress(user, channel_id).filter(completed=True)
    completed: dict[str, list[str]] = defaultdict(list)
    for row_channel, node_id in progress_rows.values_list("channel_id", "node_id"):
        completed[row_channel].append(node_id)
    started = set(node_progress(user, channel_id).values_list("channel_id", flat=True)
                  .distinct())
    completions = CourseCompletion.objects.filter(user=user)
    certificates = Certificate.objects.filter(user=user)
    if channel_id is not None:
        completions = completions.filter(channel_id=channel_id)
        certificates = certificates.filter(channel_id=channel_id)
    completed_courses = set(completions.values_list("channel_id", flat=True))
    certificate_ids = {row_channel: str(certificate_id) for row_channel, certificate_id
                       in certificates.values_list("channel_id", "id")}
    channel_ids = sorted(started | completed_courses | set(certificate_ids))
    registry = {channel.id: channel for channel in Channel.objects.filter(id__in=channel_ids)}
    summaries = []
    for course_id in channel_ids:
        channel = registry.get(course_id)
        counts = channel_counts(course_id, completed.get(course_id, []))
        total = counts["total_resources"] if counts else None
        done = counts["completed_resources"] if counts else None
        summaries.append({
            "channel_id": course_id,
            "name": channel.name if channel else "",
            "version": channel.version if channel else None,
            "version_label": channel.version_label if channel else "",
            "available": counts is not None,
            "total_resources": total,
            "completed_resources": done,
            "progress": (done / total) if total and done is not None
            else (1.0 if course_id in completed_courses else 0.0),
            "tests_total": counts["tests_total"] if counts else None,
            "tests_passed": counts["tests_passed"] if counts else None,
            "completed": course_id in completed_courses,
            "certificate_id": certificate_ids.get(course_id),
        })
    return summaries
