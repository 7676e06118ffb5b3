"""One small server full of private things, owned by named people, for the security tests.

Roles: `anon` (no account), `learner` (holds attempts, progress and a certificate),
`learner2` (another learner), `owner` (the author who owns the course, a draft and a task),
`author2` (another author), `admin`.

    def test_x(world, signed_in):
        client = signed_in("learner")            # a real session, CSRF checks enforced
        client.get(f"/api/certificates/{world.certificate.id}/")
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from authoring.models import Draft, DraftFile
from channels.builder import NodeSpec, stable_id
from channels.models import Channel, ChannelVersion
from jobs.models import Job
from learning.models import Attempt, Certificate, CourseCompletion, NodeProgress
from tests.authoring.factories import PDF, stored_draft_file
from tests.learning.conftest import document_node, exercise_node, question, quiz

ROLES = ("anon", "learner", "learner2", "owner", "author2", "admin")
PASSWORDS = {"learner": "charlie-pass", "learner2": "dana-pass", "owner": "bob-pass",
             "author2": "erin-pass", "admin": "alice-pass"}
COURSE_ID = stable_id("security", "course")


@dataclass
class World:
    users: dict[str, User | None]
    channel_id: str
    quiz_id: str
    document_id: str
    draft: Draft
    draft_file: DraftFile
    job: Job
    certificate: Certificate
    attempt: Attempt
    content_dir: Path

    @property
    def account(self) -> User:
        """The account the admin endpoints act on: the learner's."""
        user = self.users["learner"]
        assert user is not None
        return user


def course_root() -> NodeSpec:
    root = NodeSpec(title="Security course", kind="topic", id=stable_id("security", "root"),
                    options={"kolibri_like_course": {"require_videos": False,
                                                     "version_label": "", "topics": []}})
    root.children.append(document_node("security", "Reading"))
    root.children.append(exercise_node(quiz("Only quiz", [question("1+1?", [("2", True),
                                                                            ("3", False)])])))
    return root


_RENDERED: list[bytes] = []


def render_once(text: Any) -> bytes:
    """A real certificate PDF, rendered once per test session: rendering runs in a subprocess
    (2 s) and these tests ask who may read a certificate, not what it prints."""
    if not _RENDERED:
        from learning.certificate_pdf import render_certificate_pdf

        _RENDERED.append(render_certificate_pdf(text))
    return _RENDERED[0]


@pytest.fixture
def world(make_channel, admin_user, author_user, learner_user, outsider_user,
          django_user_model, content_dir, django_capture_on_commit_callbacks,
          monkeypatch) -> World:
    author2 = django_user_model.objects.create_user("erin", password="erin-pass",
                                                    role="author")
    users: dict[str, User | None] = {"anon": None, "learner": learner_user,
                                     "learner2": outsider_user, "owner": author_user,
                                     "author2": author2, "admin": admin_user}
    # Two versions, so there is something to revert to.
    make_channel("security", channel_id=COURSE_ID, root=course_root())
    make_channel("security", channel_id=COURSE_ID, root=course_root())
    Channel.objects.filter(id=COURSE_ID).update(owner=author_user)
    root = course_root()
    document_id, quiz_id = root.children[0].id or "", root.children[1].id or ""

    monkeypatch.setattr("learning.certificates.render_certificate_pdf", render_once)
    learner = APIClient()
    learner.force_authenticate(learner_user)
    questions = learner.get(f"/api/content/{COURSE_ID}/contentnode/{quiz_id}/questions/")
    question_id = questions.json()["questions"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        passed = learner.post("/api/attempts/", {"channel_id": COURSE_ID, "node_id": quiz_id,
                                                 "answers": {question_id: ["0"]}},
                              format="json")
        assert passed.status_code == 201, passed.content
        read = learner.post("/api/progress/", {"channel_id": COURSE_ID,
                                               "node_id": document_id, "progress": 0.5},
                            format="json")
        assert read.status_code == 200, read.content
    certificate = Certificate.objects.get(user=learner_user)
    assert certificate.state == Certificate.State.READY

    draft = Draft.objects.create(owner=author_user, name="Fractions", version_label="spring",
                                 description="Halves", topics=[])
    draft_file = stored_draft_file(draft, PDF, "intro.pdf", file_type="document")
    job = Job.objects.create(kind="export", channel_id=COURSE_ID, created_by=author_user,
                             params={"channel_id": COURSE_ID, "drive": str(content_dir)})
    return World(users=users, channel_id=COURSE_ID, quiz_id=quiz_id, document_id=document_id,
                 draft=draft, draft_file=draft_file, job=job, certificate=certificate,
                 attempt=Attempt.objects.get(user=learner_user), content_dir=content_dir)


def csrf_client(user: User | None, role: str) -> Client:
    """A browser: a real session from the login form's password, and the CSRF cookie."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        assert client.login(username=user.username, password=PASSWORDS[role])
    assert client.get("/login/").status_code == 200
    client.csrf_token = client.cookies[settings.CSRF_COOKIE_NAME].value  # type: ignore[attr-defined]
    return client


@pytest.fixture
def signed_in(world) -> Callable[[str], Client]:
    return lambda role: csrf_client(world.users[role], role)


def server_state(content_dir: Path) -> str:
    """Everything a request could change, as one digest: the rows of every table of the
    default database that holds something of a user's or a channel's, and the names, sizes
    and times of the files under the content folder."""
    from storage.models import StoredFile

    rows: list[Any] = []
    for model in (User, Channel, ChannelVersion, Draft, DraftFile, Job, Attempt, NodeProgress,
                  Certificate, CourseCompletion, StoredFile):
        rows.append(sorted(map(repr, model.objects.order_by("pk").values())))
    for path in sorted(content_dir.rglob("*")):
        if path.is_file():
            stat = path.stat()
            rows.append((str(path.relative_to(content_dir)), stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def state_of(world: World) -> str:
    return server_state(world.content_dir)
