"""Which channel database is active for the unit of work running now (a request, a task, a block).

A `ContextVar`, so each thread and each asyncio task has its own value, and every change is undone
with its token. No Django imports here.

    with using_content_database(channel_id):
        ContentNode.objects.count()          # reads CONTENT_DIR/databases/<channel_id>.sqlite3

    @using_content_database(channel_id)
    def count_nodes() -> int:
        return ContentNode.objects.count()
"""

from __future__ import annotations

from contextlib import ContextDecorator
from contextvars import ContextVar, Token
from typing import Any, Callable

from routers.errors import InvalidChannelIdError
from routers.ids import is_valid_channel_id

_active_content_database: ContextVar[str | None] = ContextVar(
    "active_content_database", default=None
)
# Called with the alias when a block makes a channel active, to open or refresh its connection.
# `routers.registry` installs it (this module stays free of Django).
_activation_hook: Callable[[str], object] | None = None


def set_activation_hook(hook: Callable[[str], object] | None) -> None:
    global _activation_hook
    _activation_hook = hook


def get_active_content_database() -> str | None:
    return _active_content_database.get()


def set_active_content_database(alias: str | None) -> Token[str | None]:
    """Set the active alias; keep the token and pass it to `reset_active_content_database`."""
    if alias is not None and not is_valid_channel_id(alias):
        raise InvalidChannelIdError(alias)
    return _active_content_database.set(alias)


def reset_active_content_database(token: Token[str | None]) -> None:
    _active_content_database.reset(token)


class using_content_database(ContextDecorator):  # noqa: N801 - the seed's name
    """Make `alias` (a channel id) the active content database inside the block or the call.

    Nestable: leaving an inner block restores the outer one, also when the block raised.
    """

    def __init__(self, alias: str) -> None:
        if not is_valid_channel_id(alias):
            raise InvalidChannelIdError(alias)
        self.alias = alias
        self._tokens: list[Token[str | None]] = []

    def _recreate_cm(self) -> using_content_database:
        # A decorated function may run in several threads at once, or recursively: each call
        # gets its own manager so tokens are never shared.
        return using_content_database(self.alias)

    def __enter__(self) -> str:
        # The outermost block for a channel picks up a newly installed file; an inner block for
        # the same channel must not, or the outer one would read two versions.
        if _activation_hook is not None and _active_content_database.get() != self.alias:
            _activation_hook(self.alias)
        self._tokens.append(_active_content_database.set(self.alias))
        return self.alias

    def __exit__(self, *exc_info: Any) -> None:
        _active_content_database.reset(self._tokens.pop())
