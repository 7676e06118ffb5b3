"""The channel registry in the default database: which channel databases this server serves."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy


class ChannelQuerySet(models.QuerySet):
    def servable(self) -> ChannelQuerySet:
        return self.filter(state=Channel.State.AVAILABLE)


class Channel(models.Model):
    class State(models.TextChoices):
        AVAILABLE = "available", gettext_lazy("available")
        # The file failed the checks an import makes: it is reported and never served.
        REJECTED = "rejected", gettext_lazy("rejected")

    id = models.CharField(max_length=32, primary_key=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    version = models.IntegerField(default=0)
    version_label = models.CharField(max_length=200, blank=True)
    root_id = models.CharField(max_length=32, blank=True)
    node_count = models.IntegerField(default=0)
    total_size = models.BigIntegerField(default=0)
    thumbnail = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.AVAILABLE)
    problem = models.TextField(blank=True)
    # What the served file was when last checked: a scan re-checks only changed files.
    file_size = models.BigIntegerField(default=0)
    file_mtime_ns = models.BigIntegerField(default=0)
    owner = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_channels")
    registered_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        app_label = "channels"
        ordering = ("name", "id")

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class ChannelVersion(models.Model):
    """One immutable version of a channel: its database file is kept under
    `CONTENT_DIR/databases/versions/<channel_id>/<number>.sqlite3` (channels.versions)."""

    channel = models.ForeignKey(Channel, related_name="versions", on_delete=models.CASCADE)
    number = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Where it came from: "published", "disk <path>", "network <url>", "found in databases/".
    source = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    version_label = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200, blank=True)
    node_count = models.IntegerField(default=0)
    file_count = models.IntegerField(default=0)
    total_size = models.BigIntegerField(default=0)
    database_size = models.BigIntegerField(default=0)

    class Meta:
        app_label = "channels"
        ordering = ("channel_id", "-number")
        constraints = [models.UniqueConstraint(fields=["channel", "number"],
                                               name="one_row_per_channel_version")]

    def __str__(self) -> str:
        return f"{self.channel_id} v{self.number}"


class ChannelVersionFile(models.Model):
    """A stored file a version uses (seed 2: hashed name plus one human-readable name)."""

    version = models.ForeignKey(ChannelVersion, related_name="files", on_delete=models.CASCADE)
    checksum = models.CharField(max_length=32, db_index=True)
    extension = models.CharField(max_length=10)
    size = models.BigIntegerField(null=True)
    name = models.CharField(max_length=300)

    class Meta:
        app_label = "channels"
        constraints = [models.UniqueConstraint(fields=["version", "checksum"],
                                               name="one_row_per_version_file")]


class ContentImport(models.Model):
    """Device state of one content import (`importcontent`, or its task): what it copies, from
    where, and how far it got. Kept in the default database, never in a channel file, so that an
    import stopped by a reboot, Ctrl-C or a pulled drive is listed and can be resumed with the
    same selection (channels.transfer.imports)."""

    class State(models.TextChoices):
        RUNNING = "running", gettext_lazy("running")
        # Stopped before the end: Ctrl-C, cancel, drive removed, peer gone, disk full.
        INTERRUPTED = "interrupted", gettext_lazy("interrupted")
        # Ran to the end, but some files were missing or damaged on the source.
        INCOMPLETE = "incomplete", gettext_lazy("incomplete")
        DONE = "done", gettext_lazy("done")

    class SourceKind(models.TextChoices):
        DISK = "disk", gettext_lazy("disk")
        NETWORK = "network", gettext_lazy("network")

    channel = models.ForeignKey(Channel, related_name="content_imports", on_delete=models.CASCADE)
    source_kind = models.CharField(max_length=16, choices=SourceKind.choices)
    # The drive (as given) or the peer's base URL.
    source = models.CharField(max_length=1000)
    # None: the whole channel; else the roots of the chosen subtrees.
    node_ids = models.JSONField(null=True, blank=True)
    exclude_node_ids = models.JSONField(default=list, blank=True)
    # The channel version whose file list the import copies.
    version = models.IntegerField(default=0)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    files_total = models.IntegerField(default=0)
    files_done = models.IntegerField(default=0)
    files_failed = models.IntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    problem = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "channels"
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"import {self.pk} of {self.channel_id} from {self.source_kind} {self.source}"
