"""Errors of channel operations. `exit_code` is the command's exit code (INTERFACE.md)."""

from __future__ import annotations


class ChannelError(Exception):
    exit_code = 1
    http_status = 500


class ChannelNotFoundError(ChannelError):
    exit_code = 3
    http_status = 404


class InvalidChannelDatabaseError(ChannelError):
    """The file is not a channel database we can serve; the message says why."""

    exit_code = 4
    http_status = 400

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"corrupt or foreign channel database: {path}: {reason}")
        self.path = path
        self.reason = reason
