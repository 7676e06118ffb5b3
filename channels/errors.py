"""Errors of channel operations. `exit_code` is the command's exit code (INTERFACE.md)."""

from __future__ import annotations


class ChannelError(Exception):
    exit_code = 1
    http_status = 500


class ChannelNotFoundError(ChannelError):
    exit_code = 3
    http_status = 404

    def __init__(self, channel_id: str) -> None:
        super().__init__(f"channel {channel_id} is not installed on this server; "
                         "`listchannels` shows the installed ones")
        self.channel_id = channel_id


class InvalidChannelDatabaseError(ChannelError):
    """The file is not a channel database we can serve; the message says why."""

    exit_code = 4
    http_status = 400

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"corrupt or foreign channel database: {path}: {reason}")
        self.path = path
        self.reason = reason


class ChannelBusyError(ChannelError):
    exit_code = 7
    http_status = 409

    def __init__(self, channel_id: str) -> None:
        super().__init__(f"another operation on channel {channel_id} is running; "
                         "wait for it to finish and try again")
        self.channel_id = channel_id


class VersionNotFoundError(ChannelError):
    exit_code = 3
    http_status = 404

    def __init__(self, channel_id: str, number: int) -> None:
        super().__init__(f"channel {channel_id} has no version {number} on this server; "
                         f"`channelversions {channel_id}` lists them")


class VersionExistsError(ChannelError):
    """This server already has that version number of the channel (current or not)."""

    exit_code = 7
    http_status = 409

    def __init__(self, channel_id: str, number: int) -> None:
        super().__init__(f"channel {channel_id} already has version {number} on this server")
        self.channel_id = channel_id
        self.number = number
