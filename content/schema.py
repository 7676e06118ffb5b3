"""The channel database schema as data: which tables and columns a channel file must have.

Derived from the models, so the import checks and the builder never disagree with them.
"""

from __future__ import annotations

from functools import lru_cache

from django.apps import apps
from django.db import models

# Kolibri's content schema version that our files follow (CHANNEL_FORMAT.md); Studio stamps "1"
# as the minimum schema a reader needs.
CONTENT_SCHEMA_VERSION = "5"
MIN_SCHEMA_VERSION = "1"


def content_models() -> list[type[models.Model]]:
    """Every content model including the automatic many-to-many link tables, in creation order."""
    found: list[type[models.Model]] = []
    for model in apps.get_app_config("content").get_models(include_auto_created=True):
        found.append(model)
    return found


@lru_cache(maxsize=1)
def required_columns() -> dict[str, frozenset[str]]:
    tables: dict[str, frozenset[str]] = {}
    for model in content_models():
        columns = frozenset(field.column for field in model._meta.local_concrete_fields)
        tables[model._meta.db_table] = columns
    return tables
