"""The staging tables of the course-creation wizard, in the default database.

The seed's "temporary tables", made durable so that a server restart loses no draft:

- `Draft`: one creation process (a new course, or the next version of one). Its steps' data
  live on the row (name, version label, description, topics, test sets as JSON), with the step
  the author was on, so a reload resumes there. A draft goes open -> publishing -> published;
  cancel deletes it. A published draft is kept: it is the source of the version it made, so
  "edit" opens a new draft from it, and a video still encoding at publish time updates the
  course when its encode ends.
- `DraftFile`: one uploaded file of a draft, from its first byte: its state (Uploading,
  Processing, Finished, Error), where the bytes are (a partial file while uploading, then the
  content-addressed store by MD5) and, for videos, the encoded outputs.
- `UploadRecord`: the seed's `tmp_files` registry. One row per upload from its first byte,
  which outlives its draft file (`SET_NULL`): the hourly collector finds rows that belong to no
  live draft and deletes them with their bytes (authoring.collector).

Node ids are chosen here, once, and copied when a course is edited, so items that did not
change keep their ids in every version (learners keep their progress).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


def new_hex_id() -> str:
    return uuid.uuid4().hex


class DraftQuerySet(models.QuerySet["Draft"]):
    def live(self) -> DraftQuerySet:
        """Drafts whose files must be kept: not yet published (open or being published)."""
        return self.filter(state__in=(Draft.State.OPEN, Draft.State.PUBLISHING))

    def visible_to(self, user: object) -> DraftQuerySet:
        """Admins see every draft; an author their own; anyone else none."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if getattr(user, "is_admin", False):
            return self
        if not getattr(user, "is_author", False):
            return self.none()
        return self.filter(owner_id=getattr(user, "pk", None))


class Draft(models.Model):
    class State(models.TextChoices):
        OPEN = "open", gettext_lazy("open")
        PUBLISHING = "publishing", gettext_lazy("publishing")
        PUBLISHED = "published", gettext_lazy("published")

    STEPS = (1, 2, 3, 4)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="drafts")
    # Chosen at creation for a new course (the channel exists from the first publish on).
    channel_id = models.CharField(max_length=32, default=new_hex_id, db_index=True)
    # The version this draft was opened from (editing a course); None for a new course.
    base_version = models.PositiveIntegerField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    version_label = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    topics = models.JSONField(default=list, blank=True)
    require_videos = models.BooleanField(default=False)
    test_sets = models.JSONField(default=list, blank=True)
    # The wizard step the author was on (1-4), so a reload resumes there.
    step = models.PositiveSmallIntegerField(default=1)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN,
                             db_index=True)
    published_version = models.PositiveIntegerField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Published while videos were still encoding: the course gets a new version when they end.
    awaiting_encodes = models.BooleanField(default=False, db_index=True)
    # The node ids of videos published without their encoded files (still encoding then).
    waiting_nodes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DraftQuerySet.as_manager()

    class Meta:
        app_label = "authoring"
        ordering = ("-updated_at",)
        indexes = [models.Index(fields=["channel_id", "published_version"],
                                name="draft_channel_version")]

    def __str__(self) -> str:
        return f"draft {self.id} of {self.name or 'a new course'} ({self.state})"

    @property
    def is_live(self) -> bool:
        return self.state in (self.State.OPEN, self.State.PUBLISHING)


class DraftFile(models.Model):
    class State(models.TextChoices):
        UPLOADING = "Uploading", gettext_lazy("Uploading")
        PROCESSING = "Processing", gettext_lazy("Processing")
        FINISHED = "Finished", gettext_lazy("Finished")
        ERROR = "Error", gettext_lazy("Error")

    class Usage(models.TextChoices):
        # A resource of the course (a video, a PDF ...): it becomes a node.
        RESOURCE = "resource", gettext_lazy("resource")
        # An image for test-set questions and answers only: it goes inside the exercise file.
        TEST = "test", gettext_lazy("test")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="files")
    # The node this file becomes; copied when a course is edited so it keeps its id.
    node_id = models.CharField(max_length=32, default=new_hex_id)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    topic = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    usage = models.CharField(max_length=16, choices=Usage.choices, default=Usage.RESOURCE)
    # What the file is (authoring.filetypes): video, audio, document, office, flash, image.
    file_type = models.CharField(max_length=16)
    extension = models.CharField(max_length=10)
    # Bytes declared at the start of the upload, and received so far.
    size = models.BigIntegerField()
    received = models.BigIntegerField(default=0)
    # MD5 of the uploaded bytes once they are whole and in the store.
    checksum = models.CharField(max_length=32, blank=True, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.UPLOADING,
                             db_index=True)
    # Percent of the encode while Processing (the upload's percent comes from `received`).
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # What background jobs made of the upload: a video's encoded files {"mp4": md5, "webm":
    # md5, "ogv": md5, "png": md5} and "duration" in seconds; a document's {"pdf": md5}.
    outputs = models.JSONField(default=dict, blank=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "authoring"
        ordering = ("position", "created_at")

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"

    def stored_checksums(self) -> set[str]:
        """Every stored file this draft file keeps alive: its source and its outputs."""
        found = {self.checksum} if self.checksum else set()
        found.update(value for key, value in self.outputs.items()
                     if key != "duration" and isinstance(value, str) and value)
        return found


class UploadRecord(models.Model):
    """The `tmp_files` registry: every upload from its first byte (see the module doc)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    draft_file = models.OneToOneField(DraftFile, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="upload")
    # The partial file in the temp area's uploads folder while bytes arrive.
    partial_name = models.CharField(max_length=100)
    extension = models.CharField(max_length=10)
    # Set when the whole file went into the store.
    checksum = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last time a byte arrived (or the row changed): a stalled upload ages from here.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "authoring"

    def __str__(self) -> str:
        return f"upload {self.id} ({self.partial_name})"
