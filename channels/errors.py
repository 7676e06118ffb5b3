"""Errors of channel operations. `exit_code` is the command's exit code (INTERFACE.md)."""

from __future__ import annotations

from django.utils.translation import gettext


class ChannelError(Exception):
    exit_code = 1
    http_status = 500


class ChannelNotFoundError(ChannelError):
    exit_code = 3
    http_status = 404

    def __init__(self, channel_id: str) -> None:
        super().__init__(gettext("channel %(channel_id)s is not installed on this server; "
                                 "`listchannels` shows the installed ones")
                         % {"channel_id": channel_id})
        self.channel_id = channel_id


class InvalidChannelDatabaseError(ChannelError):
    """The file is not a channel database we can serve; the message says why."""

    exit_code = 4
    http_status = 400

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(gettext("corrupt or foreign channel database: %(path)s: %(reason)s")
                         % {"path": path, "reason": reason})
        self.path = path
        self.reason = reason


class ChannelBusyError(ChannelError):
    exit_code = 7
    http_status = 409

    def __init__(self, channel_id: str) -> None:
        super().__init__(gettext("another operation on channel %(channel_id)s is running; "
                                 "wait for it to finish and try again")
                         % {"channel_id": channel_id})
        self.channel_id = channel_id


class VersionNotFoundError(ChannelError):
    exit_code = 3
    http_status = 404

    def __init__(self, channel_id: str, number: int) -> None:
        super().__init__(gettext("channel %(channel_id)s has no version %(number)s on this "
                                 "server; `channelversions %(channel_id)s` lists them")
                         % {"channel_id": channel_id, "number": number})


class VersionExistsError(ChannelError):
    """This server already has that version number of the channel (current or not)."""

    exit_code = 7
    http_status = 409

    def __init__(self, channel_id: str, number: int) -> None:
        super().__init__(gettext("channel %(channel_id)s already has version %(number)s on this "
                                 "server") % {"channel_id": channel_id, "number": number})
        self.channel_id = channel_id
        self.number = number
