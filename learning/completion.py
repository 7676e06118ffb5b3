"""Course completion: every test passed (and every video watched if the author asked) makes a
CourseCompletion, a Certificate and a task that renders its PDF.

What a course requires is read from the current version of its channel: its exercise nodes,
and its video nodes that have files (a video still encoding has none and cannot be watched yet)
when the root's `kolibri_like_course.require_videos` is on. A course that requires nothing (no
test, and no video required) is never "completed": a certificate certifies something passed.

Race-safe: two checks at once (two tabs) both try to insert the completion; the unique
constraint lets one win, and the other returns the winner's certificate. A new version of the
course never revokes or re-issues a certificate: there is one per learner and course.

    certificate = check_course_completion(user, channel_id, verify_base_url="http://10.0.0.2:8000")
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation

from channels.models import Channel
from channels.selectors import is_channel_servable
from content.constants import EXERCISE, VIDEO
from content.models import ChannelMetadata, ContentNode
from learning.certificate_pdf import certificate_language
from learning.certificates import verify_url
from learning.models import Certificate, CourseCompletion, NodeProgress
from routers.context import using_content_database
from routers.errors import ChannelDatabaseNotFoundError

# Letters and digits a person reads back without confusing them (no 0/O, 1/I/L): 16 of 30
# symbols are 78 bits, unguessable, and short enough to type from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ2345678"
CODE_LENGTH = 16


@dataclass(frozen=True)
class CourseRequirements:
    channel_id: str
    name: str
    version: int
    node_ids: frozenset[str]


def new_certificate_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def course_requirements(channel_id: str) -> CourseRequirements | None:
    """What completing the current version of the course takes (None: not on this server)."""
    if not is_channel_servable(channel_id):
        return None
    try:
        with using_content_database(channel_id):
            metadata = ChannelMetadata.objects.values("name", "version", "root_id").first()
            if metadata is None:
                return None
            options = ContentNode.objects.filter(id=metadata["root_id"]).values_list(
                "options", flat=True).first() or {}
            course = options.get("kolibri_like_course") if isinstance(options, dict) else None
            require_videos = isinstance(course, dict) and bool(course.get("require_videos"))
            wanted = Q(kind=EXERCISE)
            if require_videos:
                wanted |= Q(kind=VIDEO, files__isnull=False)
            node_ids = frozenset(ContentNode.objects.filter(wanted)
                                 .values_list("id", flat=True).distinct())
    except ChannelDatabaseNotFoundError:
        return None
    return CourseRequirements(channel_id=channel_id, name=metadata["name"],
                              version=int(metadata["version"] or 0), node_ids=node_ids)


def check_course_completion(user, channel_id: str, *,
                            verify_base_url: str = "") -> Certificate | None:
    """The learner's certificate for the course if it is complete (issued now if need be)."""
    existing = Certificate.objects.filter(user=user, channel_id=channel_id).first()
    if existing is not None:
        return existing
    requirements = course_requirements(channel_id)
    if requirements is None or not requirements.node_ids:
        return None
    done = set(NodeProgress.objects.filter(user=user, channel_id=channel_id, completed=True)
               .values_list("node_id", flat=True))
    if not requirements.node_ids <= done:
        return None
    return issue_certificate(user, requirements, verify_base_url=verify_base_url)


def learner_display_name(user) -> str:
    full_name = str(getattr(user, "full_name", "") or user.get_full_name() or "").strip()
    return (full_name or user.get_username())[:300]


def issue_certificate(user, requirements: CourseRequirements, *,
                      verify_base_url: str = "") -> Certificate:
    """Record the completion and its certificate (pending) and queue the PDF after commit.

    What the certificate says is copied now: renaming the course or the learner later, or
    publishing a new version, does not change an issued certificate.
    """
    from learning.tasks import render_certificate_task

    channel = Channel.objects.filter(id=requirements.channel_id).first()
    for _ in range(3):
        code = new_certificate_code()
        try:
            with transaction.atomic():
                completion = CourseCompletion.objects.create(
                    user=user, channel_id=requirements.channel_id,
                    version=requirements.version)
                certificate = Certificate.objects.create(
                    user=user, completion=completion, channel_id=requirements.channel_id,
                    course_name=(channel.name if channel else requirements.name)[:200],
                    version=requirements.version,
                    version_label=(channel.version_label if channel else "")[:200],
                    learner_name=learner_display_name(user),
                    server_name=str(settings.SERVER_NAME)[:200], code=code,
                    verify_url=verify_url(verify_base_url, code),
                    language=certificate_language(translation.get_language()))
        except IntegrityError:
            winner = Certificate.objects.filter(user=user,
                                                channel_id=requirements.channel_id).first()
            if winner is not None:
                return winner
            # Not the completion (no certificate exists): a code drawn twice. Draw again.
            continue
        transaction.on_commit(functools.partial(
            render_certificate_task, str(certificate.id), verify_base_url))
        return certificate
    raise RuntimeError("could not draw a unique certificate code three times")
