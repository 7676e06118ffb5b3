"""The learner's side of the default database: progress, test attempts, completions and
certificates.

Content is referred to by `(channel_id, node_id)` and its `content_id`, never by a foreign key
into a channel database (DESIGN.md): a channel is another file. Node ids and content ids stay
the same across versions of a course for items that did not change, so progress and
certificates survive a re-publish; the version a learner used is recorded where it matters
(attempts, completions, certificates).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import pgettext_lazy


class NodeProgress(models.Model):
    """How far a learner got in one content node: a video's watched fraction, a document
    opened, a test passed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="node_progress")
    channel_id = models.CharField(max_length=32)
    node_id = models.CharField(max_length=32)
    content_id = models.CharField(max_length=32)
    kind = models.CharField(max_length=20)
    # 0-1: the furthest fraction reached (it never goes down: rewinding a video is not forgetting).
    progress = models.FloatField(default=0.0)
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "learning"
        constraints = [models.UniqueConstraint(fields=["user", "channel_id", "node_id"],
                                               name="one_progress_per_node")]
        indexes = [models.Index(fields=["user", "channel_id"], name="progress_user_channel"),
                   models.Index(fields=["channel_id", "node_id"], name="progress_node")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.channel_id}/{self.node_id} {self.progress:.0%}"


class Attempt(models.Model):
    """One graded try at a test set: the answers as given, the result per question, the score."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="attempts")
    channel_id = models.CharField(max_length=32)
    node_id = models.CharField(max_length=32)
    content_id = models.CharField(max_length=32)
    # The channel version the questions came from.
    version = models.PositiveIntegerField()
    # {question_id: [choice_id, ...]} as submitted.
    answers = models.JSONField(default=dict)
    # {question_id: true | false | null}; null: a question we cannot render, not graded.
    results = models.JSONField(default=dict)
    score = models.FloatField()
    passed = models.BooleanField()
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        app_label = "learning"
        ordering = ("-submitted_at",)
        indexes = [models.Index(fields=["user", "channel_id", "node_id"],
                                name="attempt_user_node")]

    def __str__(self) -> str:
        return f"attempt {self.id}: {self.score:.0%}"


class CourseCompletion(models.Model):
    """A learner completed a course (every test set passed, and every video watched if the
    author asked). One per learner and course: later versions do not complete it again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="completions")
    channel_id = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "learning"
        constraints = [models.UniqueConstraint(fields=["user", "channel_id"],
                                               name="one_completion_per_course")]


class Certificate(models.Model):
    """A certificate of completion: what it certifies is copied here (a later version, a
    renamed course or a renamed learner does not change an issued certificate), and the PDF
    rendered once and kept in the private store (never under /content/storage/)."""

    class State(models.TextChoices):
        # A context of their own: French and Arabic agree these with "certificate", not with
        # the task states of the same English words in other catalogs.
        PENDING = "pending", pgettext_lazy("certificate state", "pending")
        READY = "ready", pgettext_lazy("certificate state", "ready")
        FAILED = "failed", pgettext_lazy("certificate state", "failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="certificates")
    completion = models.OneToOneField(CourseCompletion, on_delete=models.CASCADE,
                                      related_name="certificate")
    channel_id = models.CharField(max_length=32, db_index=True)
    course_name = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    version_label = models.CharField(max_length=200, blank=True)
    learner_name = models.CharField(max_length=300)
    server_name = models.CharField(max_length=200)
    issued_at = models.DateTimeField(auto_now_add=True)
    # What anyone types or scans to check the certificate: random, unguessable, unique.
    code = models.CharField(max_length=32, unique=True)
    # The address printed and put in the QR code, fixed at issue time from the address the
    # learner used (a re-render after a failure prints the same one).
    verify_url = models.CharField(max_length=300, blank=True)
    # The interface language the learner used when the course was completed: the PDF is in it.
    language = models.CharField(max_length=8, default="en")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # MD5 and size of the rendered PDF in the private store.
    checksum = models.CharField(max_length=32, blank=True)
    size = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        app_label = "learning"
        ordering = ("-issued_at",)

    def __str__(self) -> str:
        return f"certificate {self.code} ({self.course_name}, {self.learner_name})"
