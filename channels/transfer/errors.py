"""Errors of transfers to and from drives and peers. `exit_code` is the command's exit code and
`http_status` the task API's (INTERFACE.md), so commands and tasks report them the same way.

    raise SourceReadError("drive /media/usb", error)     # exit 6, "was it removed?"
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from django.utils.translation import gettext

from channels.errors import ChannelError
from channels.progress import human_size

if TYPE_CHECKING:
    from channels.transfer.base import FileFailure


class TransferError(ChannelError):
    """Base of the errors below; a re-run after fixing the cause resumes where it stopped."""


class BadTransferArgumentError(TransferError):
    """A malformed id or URL given by the caller (exit 2, bad usage)."""

    exit_code = 2
    http_status = 400


class DriveNotFoundError(TransferError):
    exit_code = 3
    http_status = 404

    def __init__(self, drive: Path, reason: str) -> None:
        super().__init__(f"{drive}: {reason}")
        self.drive = drive


class ChannelNotOnSourceError(TransferError):
    exit_code = 3
    http_status = 404

    def __init__(self, channel_id: str, source_label: str, hint: str) -> None:
        super().__init__(gettext("channel %(channel_id)s is not on %(source)s; %(hint)s")
                         % {"channel_id": channel_id, "source": source_label, "hint": hint})
        self.channel_id = channel_id


class ChannelNotInstalledError(TransferError):
    exit_code = 3
    http_status = 404

    def __init__(self, channel_id: str, import_command: str) -> None:
        super().__init__(gettext("channel %(channel_id)s is not installed on this server; "
                                 "import its database first: %(command)s")
                         % {"channel_id": channel_id, "command": import_command})
        self.channel_id = channel_id


class NodeNotFoundError(TransferError):
    exit_code = 3
    http_status = 404

    def __init__(self, channel_id: str, node_ids: list[str]) -> None:
        shown = ", ".join(node_ids[:5]) + (" ..." if len(node_ids) > 5 else "")
        super().__init__(gettext("channel %(channel_id)s has no node %(nodes)s")
                         % {"channel_id": channel_id, "nodes": shown})


class InvalidManifestError(TransferError):
    exit_code = 4
    http_status = 400

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(gettext("unreadable manifest %(path)s: %(reason)s; fix or delete it and "
                                 "run again") % {"path": path, "reason": reason})


class FilesFailedError(TransferError):
    """Some files could not be copied (missing or damaged); the others were. Raised at the end,
    carrying the result, so the caller can show what was done and list what was not."""

    exit_code = 4
    http_status = 422

    def __init__(self, action: str, failures: list[FileFailure], result: object) -> None:
        shown = "; ".join(f"{failure.name}: {failure.reason}" for failure in failures[:10])
        more = (gettext(" (and %(count)s more)") % {"count": len(failures) - 10}
                if len(failures) > 10 else "")
        super().__init__(gettext("%(action)s: %(count)s file(s) failed: %(shown)s%(more)s")
                         % {"action": action, "count": len(failures), "shown": shown,
                            "more": more})
        self.failures = failures
        self.result = result


class NotEnoughSpaceError(TransferError):
    exit_code = 5
    http_status = 507

    def __init__(self, where: Path, needed: int, free: int) -> None:
        super().__init__(gettext(
            "not enough space on %(where)s: %(needed)s needed, %(free)s free; free at least "
            "%(more)s more and run again") % {
                "where": where, "needed": human_size(needed), "free": human_size(free),
                "more": human_size(max(needed - free, 1))})
        self.needed, self.free = needed, free


class DiskFullError(TransferError):
    """ENOSPC in the middle of a copy (the free-space check passed, then something else wrote)."""

    exit_code = 5
    http_status = 507

    def __init__(self, where: Path | str) -> None:
        super().__init__(gettext("%(where)s is full; free some space and run again to resume")
                         % {"where": where})


class FileTooLargeForDriveError(TransferError):
    """FAT32 holds files up to 4 GiB - 1 byte; nothing is copied when one is bigger."""

    exit_code = 5
    http_status = 507

    def __init__(self, drive: Path, name: str, size: int) -> None:
        super().__init__(gettext(
            "%(name)s (%(size)s) is too large for %(drive)s: its FAT32 file system holds files up "
            "to 4 GB. Format the drive as exFAT or NTFS, or leave that node out with "
            "--exclude_node_ids. Nothing was copied")
            % {"name": name, "size": human_size(size), "drive": drive})


class SourceReadError(TransferError):
    """The drive or peer stopped answering in the middle of a transfer."""

    exit_code = 6
    http_status = 502

    def __init__(self, source_label: str, error: BaseException) -> None:
        super().__init__(gettext("cannot read from %(source)s (%(error)s); was the drive removed "
                                 "or the peer stopped? Files already copied are kept: run again "
                                 "to resume") % {"source": source_label, "error": error})


class DestinationWriteError(TransferError):
    exit_code = 6
    http_status = 502

    def __init__(self, where: Path | str, error: object) -> None:
        super().__init__(gettext("cannot write to %(where)s (%(error)s); was the drive removed? "
                                 "Run again to resume") % {"where": where, "error": error})


class PeerUnreachableError(TransferError):
    exit_code = 6
    http_status = 502

    def __init__(self, where: str, error: object) -> None:
        super().__init__(gettext("cannot reach %(where)s (%(error)s); check the address, and "
                                 "that the server runs and is on this network")
                         % {"where": where, "error": error})


class PeerAnswerError(TransferError):
    """The peer answered, but not as a server of ours does (wrong status, bad JSON, too long)."""

    exit_code = 6
    http_status = 502


class VersionNotNewerError(TransferError):
    exit_code = 7
    http_status = 409

    def __init__(self, channel_id: str, offered: int, current: int | None,
                 kept: list[int]) -> None:
        kept_text = ", ".join(str(number) for number in kept) or gettext("none")
        hint = (gettext(" `revertchannel %(channel_id)s %(offered)s` makes it current again.")
                % {"channel_id": channel_id, "offered": offered} if offered in kept else "")
        super().__init__(gettext(
            "version %(offered)s of channel %(channel_id)s is not newer than this server's "
            "(current %(current)s, kept %(kept)s); nothing was installed.%(hint)s") % {
                "offered": offered, "channel_id": channel_id, "current": current,
                "kept": kept_text, "hint": hint})
        self.offered, self.current = offered, current


class TransferBusyError(TransferError):
    exit_code = 7
    http_status = 409

    def __init__(self, what: str) -> None:
        super().__init__(gettext("another import or export of %(what)s is running; wait for it "
                                 "to finish and try again") % {"what": what})
