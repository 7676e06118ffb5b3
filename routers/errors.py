from __future__ import annotations


class RoutingError(Exception):
    """Base of the routing errors. `exit_code` follows INTERFACE.md's command exit codes."""

    exit_code = 1


class NoActiveContentDatabaseError(RoutingError):
    """A content model was queried outside `using_content_database(...)` and outside a channel URL.

    Raised instead of silently reading the default database, which has no content tables.
    """


class InvalidChannelIdError(RoutingError, ValueError):
    exit_code = 2

    def __init__(self, channel_id: object) -> None:
        super().__init__(f"not a channel id (32 lowercase hex characters): {channel_id!r}")
        self.channel_id = channel_id


class ChannelDatabaseNotFoundError(RoutingError):
    exit_code = 3

    def __init__(self, channel_id: str) -> None:
        super().__init__(f"channel {channel_id} is not installed on this server")
        self.channel_id = channel_id
