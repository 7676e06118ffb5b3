"""The marker base of every model stored in a channel database.

Defined outside `content/__init__.py` because model classes cannot be created before the app
registry is ready.
"""

from __future__ import annotations

from django.db import models


class ContentDatabaseModel(models.Model):
    """Rows of this model live in a channel's own SQLite file; `routers.db_router` sends them there."""

    uses_content_database = True

    class Meta:
        abstract = True
