"""The tables of a channel database: Kolibri's content schema 5 plus Studio's legacy columns.

Table and column names are the interface with Kolibri (CHANNEL_FORMAT.md): a file Studio
published is served as it is, and a file we build imports into Kolibri. Every column listed
there is a field here; `content.schema.required_columns()` derives the import checks from them.
"""

from __future__ import annotations

from django.db import models
from mptt.models import MPTTModel, TreeForeignKey

from content.base import ContentDatabaseModel
from content.constants import CONTENT_KINDS, PRESETS
from storage.paths import storage_url


class IdField(models.CharField):
    """A 32-character lowercase hex id stored as text, as Kolibri's UUIDField does."""

    def __init__(self, *args, **kwargs):
        kwargs["max_length"] = 32
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        return name, path, args, kwargs


class License(ContentDatabaseModel):
    """Legacy table that Studio still writes and old Kolibri versions read."""

    license_name = models.CharField(max_length=50)
    license_description = models.TextField(null=True, blank=True)

    class Meta:
        app_label = "content"


class Language(ContentDatabaseModel):
    id = models.CharField(max_length=14, primary_key=True)
    lang_code = models.CharField(max_length=3, db_index=True)
    lang_subcode = models.CharField(max_length=10, db_index=True, blank=True, null=True)
    lang_name = models.CharField(max_length=100, blank=True, null=True)
    lang_direction = models.CharField(max_length=3, default="ltr")

    class Meta:
        app_label = "content"


class ContentTag(ContentDatabaseModel):
    id = IdField(primary_key=True)
    tag_name = models.CharField(max_length=30, blank=True)

    class Meta:
        app_label = "content"


class ContentNode(MPTTModel, ContentDatabaseModel):
    id = IdField(primary_key=True)
    parent = TreeForeignKey("self", null=True, blank=True, related_name="children",
                            db_index=True, on_delete=models.CASCADE)
    license_name = models.CharField(max_length=50, null=True, blank=True)
    license_description = models.TextField(null=True, blank=True)
    has_prerequisite = models.ManyToManyField("self", related_name="prerequisite_for",
                                              symmetrical=False, blank=True)
    related = models.ManyToManyField("self", symmetrical=True, blank=True)
    tags = models.ManyToManyField(ContentTag, related_name="tagged_content", blank=True)
    title = models.CharField(max_length=200)
    coach_content = models.BooleanField(default=False)
    # Shared by copies of one resource across channels: progress follows the resource.
    content_id = IdField(db_index=True)
    channel_id = IdField(db_index=True)
    description = models.TextField(blank=True, null=True)
    sort_order = models.FloatField(blank=True, null=True)
    license_owner = models.CharField(max_length=200, blank=True)
    author = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=200, choices=[(kind, kind) for kind in CONTENT_KINDS],
                            blank=True)
    available = models.BooleanField(default=False)
    lang = models.ForeignKey(Language, blank=True, null=True, on_delete=models.CASCADE)
    options = models.JSONField(default=dict, null=True)
    grade_levels = models.TextField(blank=True, null=True)
    resource_types = models.TextField(blank=True, null=True)
    learning_activities = models.TextField(blank=True, null=True)
    accessibility_labels = models.TextField(blank=True, null=True)
    categories = models.TextField(blank=True, null=True)
    learner_needs = models.TextField(blank=True, null=True)
    duration = models.PositiveIntegerField(null=True, blank=True)
    # Studio's legacy columns.
    license = models.ForeignKey(License, null=True, blank=True, on_delete=models.SET_NULL,
                                db_constraint=False)
    stemmed_metaphone = models.CharField(max_length=1800, blank=True, default="")

    class Meta:
        app_label = "content"
        ordering = ("lft",)
        indexes = [models.Index(fields=["level", "channel_id", "kind"], name="node_level_channel_kind")]

    class MPTTMeta:
        # Trees are built whole by the channel builder; lft/rght are computed there.
        pass

    def __str__(self) -> str:
        return self.title

    # django-mptt builds these queries on its manager, which the router sends to the *active*
    # channel; a node read from another channel's database must query its own.
    def _own_database(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.using(self._state.db) if self._state.db else queryset

    def get_children(self) -> models.QuerySet:
        return self._own_database(super().get_children())

    def get_ancestors(self, ascending: bool = False, include_self: bool = False) -> models.QuerySet:
        return self._own_database(super().get_ancestors(ascending=ascending,
                                                        include_self=include_self))

    def get_descendants(self, include_self: bool = False) -> models.QuerySet:
        return self._own_database(super().get_descendants(include_self=include_self))

    def get_siblings(self, include_self: bool = False) -> models.QuerySet:
        return self._own_database(super().get_siblings(include_self=include_self))

    def get_family(self) -> models.QuerySet:
        return self._own_database(super().get_family())


class ChannelMetadata(ContentDatabaseModel):
    id = IdField(primary_key=True)
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=400, blank=True)
    tagline = models.CharField(max_length=150, blank=True, null=True)
    author = models.CharField(max_length=400, blank=True)
    version = models.IntegerField(default=0)
    thumbnail = models.TextField(blank=True)
    last_updated = models.DateTimeField(null=True)
    min_schema_version = models.CharField(max_length=50)
    root = models.ForeignKey(ContentNode, on_delete=models.CASCADE)
    # Studio's legacy column: the root's id again.
    root_pk = IdField(null=True, blank=True)

    class Meta:
        app_label = "content"

    def __str__(self) -> str:
        return self.name


class LocalFile(ContentDatabaseModel):
    """One stored file, named by the MD5 of its bytes."""

    id = IdField(primary_key=True)
    extension = models.CharField(max_length=40, blank=True)
    available = models.BooleanField(default=False)
    file_size = models.IntegerField(blank=True, null=True)

    class Meta:
        app_label = "content"

    def get_url(self) -> str:
        return storage_url(self.id, self.extension)


class File(ContentDatabaseModel):
    """A node's use of a stored file, with its role (`preset`)."""

    id = IdField(primary_key=True)
    local_file = models.ForeignKey(LocalFile, related_name="files", on_delete=models.CASCADE)
    contentnode = models.ForeignKey(ContentNode, related_name="files", on_delete=models.CASCADE)
    preset = models.CharField(max_length=150, choices=[(p, p) for p in PRESETS], blank=True)
    lang = models.ForeignKey(Language, blank=True, null=True, on_delete=models.CASCADE)
    supplementary = models.BooleanField(default=False)
    thumbnail = models.BooleanField(default=False)
    priority = models.IntegerField(blank=True, null=True, db_index=True)
    # Studio's legacy columns (the seed's File has checksum and extension: these are they).
    checksum = models.CharField(max_length=400, blank=True)
    extension = models.CharField(max_length=40, blank=True)
    file_size = models.IntegerField(blank=True, null=True)
    available = models.BooleanField(default=False)

    class Meta:
        app_label = "content"
        ordering = ("priority",)

    def get_url(self) -> str:
        """The seed's `get_url`: where the bytes are served, from the checksum and extension."""
        return storage_url(self.local_file_id, self.extension or self.local_file.extension)


class AssessmentMetaData(ContentDatabaseModel):
    id = IdField(primary_key=True)
    contentnode = models.ForeignKey(ContentNode, related_name="assessmentmetadata",
                                    on_delete=models.CASCADE)
    assessment_item_ids = models.JSONField(default=list)
    number_of_assessments = models.IntegerField()
    mastery_model = models.JSONField(default=dict)
    randomize = models.BooleanField(default=False)
    is_manipulable = models.BooleanField(default=False)

    class Meta:
        app_label = "content"
