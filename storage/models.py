"""The registry of stored files, in the default database: what is present on this server."""

from __future__ import annotations

from django.db import models


class StoredFile(models.Model):
    checksum = models.CharField(max_length=32, primary_key=True)
    extension = models.CharField(max_length=10)
    size = models.BigIntegerField()
    # Recorded so that a second file with the same MD5 but other bytes is caught, not served.
    sha256 = models.CharField(max_length=64)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "storage"

    def __str__(self) -> str:
        return f"{self.checksum}.{self.extension}"
