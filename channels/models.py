"""The channel registry in the default database: which channel databases this server serves."""

from __future__ import annotations

from django.db import models


class ChannelQuerySet(models.QuerySet):
    def servable(self) -> ChannelQuerySet:
        return self.filter(state=Channel.State.AVAILABLE)


class Channel(models.Model):
    class State(models.TextChoices):
        AVAILABLE = "available", "available"
        # The file failed the checks an import makes: it is reported and never served.
        REJECTED = "rejected", "rejected"

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
