"""Progress writes: how far a learner got in one node, then whether the course is complete.

Videos and audio report the fraction watched: the furthest fraction is kept (rewinding is not
forgetting), and the node is completed at 90% or when the player says the media ended.
Documents and the other kinds are completed when opened. Tests are completed only by passing
them (`learning.attempts`), never through this endpoint. Completion is sticky: a node once
completed stays completed, also in later versions of the course.

    record_progress(user, channel_id, node_id, 0.5)                 # half a video
    record_progress(user, channel_id, node_id, 0.95, ended=True)    # completed
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from content.constants import AUDIO, EXERCISE, TOPIC, VIDEO
from learning.completion import check_course_completion
from learning.errors import InvalidLearningInputError
from learning.models import NodeProgress
from learning.questions import validate_ids
from learning.selectors import find_channel_node

WATCHED_FRACTION = 0.9
MEDIA_KINDS = frozenset({VIDEO, AUDIO})


@dataclass(frozen=True)
class ProgressUpdate:
    progress: NodeProgress
    newly_completed: bool


def clean_fraction(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or not 0 <= value <= 1:
        raise InvalidLearningInputError(
            gettext("progress must be a number from 0 to 1 (0.5 is half)."))
    return float(value)


def record_progress(user, channel_id: object, node_id: object, progress: object, *,
                    ended: bool = False, verify_base_url: str = "") -> ProgressUpdate:
    channel_id, node_id = validate_ids(channel_id, node_id)
    fraction = clean_fraction(progress)
    node = find_channel_node(channel_id, node_id)
    if node.kind == TOPIC:
        raise InvalidLearningInputError(gettext("A topic has no progress of its own; report "
                                                "the progress of the resources in it."))
    if node.kind == EXERCISE:
        raise InvalidLearningInputError(gettext("A test is completed by passing it: POST its "
                                                "answers to /api/attempts/."))
    if node.kind in MEDIA_KINDS:
        completed = ended or fraction >= WATCHED_FRACTION
        if ended:
            fraction = 1.0
    else:
        # Documents, apps, slideshows: opening one is what we can know of reading it.
        completed, fraction = True, 1.0
    update = improve_progress(user, channel_id, node_id, content_id=node.content_id,
                              kind=node.kind, fraction=fraction, completed=completed)
    if update.newly_completed and node.kind == VIDEO:
        check_course_completion(user, channel_id, verify_base_url=verify_base_url)
    return update


def improve_progress(user, channel_id: str, node_id: str, *, content_id: str, kind: str,
                     fraction: float, completed: bool) -> ProgressUpdate:
    """Raise the stored progress to `fraction` and complete it if asked; never lower either.

    The row is locked while it is read and written, so two reports at once (two tabs) keep the
    larger value instead of the last one written.
    """
    with transaction.atomic():
        row, _ = NodeProgress.objects.select_for_update().get_or_create(
            user=user, channel_id=channel_id, node_id=node_id,
            defaults={"content_id": content_id, "kind": kind})
        newly_completed = completed and not row.completed
        row.progress = max(row.progress, fraction)
        row.content_id, row.kind = content_id, kind
        if newly_completed:
            row.completed, row.completed_at = True, timezone.now()
        row.save()
    return ProgressUpdate(progress=row, newly_completed=newly_completed)
