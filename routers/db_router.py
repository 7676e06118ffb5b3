"""ContentDBRouter: content models go to the active channel database, everything else is not ours.

A model is a content model when it (or, for an automatic many-to-many table, its owner) has the
class attribute `uses_content_database = True`, which `content.base.ContentDatabaseModel` sets.
The router imports no app: it only reads that attribute.
"""

from __future__ import annotations

from typing import Any

from routers.context import get_active_content_database
from routers.errors import NoActiveContentDatabaseError
from routers.ids import is_valid_channel_id
from routers.registry import activate_channel_connection, is_registered

CONTENT_APP_LABEL = "content"


def is_content_model(model: type) -> bool:
    if getattr(model, "uses_content_database", False):
        return True
    meta = getattr(model, "_meta", None)
    owner = getattr(meta, "auto_created", None) if meta is not None else None
    return bool(owner) and getattr(owner, "uses_content_database", False)


def is_channel_alias(db: str) -> bool:
    """Channel aliases are channel ids; the builder's write aliases are `build-<channel id>-...`."""
    return is_valid_channel_id(db) or db.startswith("build-")


class ContentDBRouter:
    def _route(self, model: type, hints: dict[str, Any]) -> str | None:
        if not is_content_model(model):
            return None
        instance = hints.get("instance")
        if instance is not None and getattr(instance._state, "db", None):
            return str(instance._state.db)
        alias = get_active_content_database()
        if alias is None:
            raise NoActiveContentDatabaseError(
                f"{model.__name__} was queried with no active channel database: wrap the code in "
                "using_content_database(channel_id) or pass .using(channel_id)"
            )
        if not is_registered(alias):
            # Made active without a block (set_active_content_database): open it now.
            activate_channel_connection(alias)
        return alias

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return self._route(model, hints)

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return self._route(model, hints)

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        first, second = is_content_model(type(obj1)), is_content_model(type(obj2))
        if first and second:
            return bool(obj1._state.db == obj2._state.db)
        if first or second:
            return False
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None,
                      **hints: Any) -> bool:
        if is_channel_alias(db):
            return app_label == CONTENT_APP_LABEL
        return app_label != CONTENT_APP_LABEL
