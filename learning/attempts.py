"""Taking a test: grade the answers on the server, store the attempt, raise the progress.

Practice after passing is allowed (within the attempt limit): a later, lower score is stored as
an attempt but never lowers the progress (the best score) nor un-completes the test. The limit
counts every attempt, passed or not; it is checked and the attempt stored while the learner's
progress row for the test is locked, so two submissions at once cannot both use the last try.

    outcome = submit_attempt(user, channel_id, node_id, {"q1": ["0"], "q2": ["1", "3"]})
    outcome.attempt.score, outcome.attempt.passed, outcome.certificate
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, ngettext

from learning.completion import check_course_completion
from learning.errors import AttemptLimitError, InvalidLearningInputError
from learning.grading import clean_answers, grade_answers
from learning.models import Attempt, Certificate, NodeProgress
from learning.questions import load_exercise, validate_ids

# A browser clock a little ahead of the server's is not an error.
CLOCK_SLACK = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class AttemptOutcome:
    attempt: Attempt
    attempts_used: int
    max_attempts: int | None
    certificate: Certificate | None


def parse_started_at(value: object) -> dt.datetime | None:
    if value is None or value == "":
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidLearningInputError(gettext("started_at must be an ISO 8601 date and time, "
                                                "e.g. 2026-03-01T09:30:00Z, or left out."))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.timezone.utc)
    if parsed > timezone.now() + CLOCK_SLACK:
        raise InvalidLearningInputError(
            gettext("started_at is in the future; check the device's clock."))
    return parsed


def attempts_used(user, channel_id: str, node_id: str) -> int:
    if not (user and user.is_authenticated):
        return 0
    return Attempt.objects.filter(user=user, channel_id=channel_id, node_id=node_id).count()


def submit_attempt(user, channel_id: object, node_id: object, answers: object, *,
                   started_at: object = None, verify_base_url: str = "") -> AttemptOutcome:
    channel_id, node_id = validate_ids(channel_id, node_id)
    started = parse_started_at(started_at)
    exercise = load_exercise(channel_id, node_id)
    clean = clean_answers(answers, exercise.items)
    grade = grade_answers(exercise.items, clean, exercise.pass_mark)
    with transaction.atomic():
        row, _ = NodeProgress.objects.select_for_update().get_or_create(
            user=user, channel_id=channel_id, node_id=node_id,
            defaults={"content_id": exercise.content_id, "kind": "exercise"})
        used = Attempt.objects.filter(user=user, channel_id=channel_id,
                                      node_id=node_id).count()
        if exercise.max_attempts is not None and used >= exercise.max_attempts:
            raise AttemptLimitError(ngettext(
                "You have used your %(count)d attempt at this test; ask your teacher if you "
                "need another.",
                "You have used all %(count)d attempts at this test; ask your teacher if you "
                "need another.", exercise.max_attempts) % {"count": exercise.max_attempts})
        attempt = Attempt.objects.create(
            user=user, channel_id=channel_id, node_id=node_id, content_id=exercise.content_id,
            version=exercise.version, answers=clean, results=grade.results, score=grade.score,
            passed=grade.passed, started_at=started)
        row.progress = max(row.progress, grade.score)
        row.content_id, row.kind = exercise.content_id, "exercise"
        if grade.passed and not row.completed:
            row.completed, row.completed_at = True, timezone.now()
        row.save()
    certificate = None
    if row.completed:
        # Also after a practice attempt: it repairs a completion check a crash cut off.
        certificate = check_course_completion(user, channel_id, verify_base_url=verify_base_url)
    return AttemptOutcome(attempt=attempt, attempts_used=used + 1,
                          max_attempts=exercise.max_attempts, certificate=certificate)
