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
# The tokens of the `using_content_database` blocks open in this context, innermost last. Kept in
# a ContextVar, not on the block object, so one block object may be entered by several threads
# (or asyncio tasks) at once and each leaves with its own token.
_block_tokens: ContextVar[tuple[Token[str | None], ...]] = ContextVar(
    "content_database_block_tokens", default=()
)
# Called with the alias when a block makes a channel active, to open or refresh its connection.
# `routers.registry` installs it (this module stays free of Django).
_activation_hook: Callable[[str], object] | None = None


def set_activation_hook(hook: Callable[[str], object] | None) -> None:
    global _activation_hook
    _activation_hook = hook


def get_active_content_database() -> str | None:
    return _active_content_database.get()


def active_content_databases() -> frozenset[str]:
    """Every alias this context is reading: the active one and those of the enclosing blocks.

    The registry must not close these to keep within its bound: an outer block (or the request
    around it) would reopen its channel lazily, maybe on a newer file, and read two versions.
    """
    aliases = {get_active_content_database()}
    aliases.update(token.old_value for token in _block_tokens.get())
    return frozenset(alias for alias in aliases if isinstance(alias, str))


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

    def _recreate_cm(self) -> using_content_database:
        # Tokens live in the context, not here: one object serves every call, in every thread.
        return self

    def __enter__(self) -> str:
        # The outermost block for a channel picks up a newly installed file; a block for a
        # channel that an enclosing block (or the request) is reading must not, or that outer
        # block would read two versions.
        if _activation_hook is not None and self.alias not in active_content_databases():
            _activation_hook(self.alias)
        token = _active_content_database.set(self.alias)
        _block_tokens.set((*_block_tokens.get(), token))
        return self.alias

    def __exit__(self, *exc_info: Any) -> None:
        tokens = _block_tokens.get()
        _block_tokens.set(tokens[:-1])
        _active_content_database.reset(tokens[-1])
