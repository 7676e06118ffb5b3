"""Reads for the admin pages: the channels a user manages, one channel's versions and tasks,
and what a drive, a folder or a peer server offers for import.

The transfer services (channels.transfer.*) are imported inside the functions that need them
and their errors become a sentence on the page: listing a drive that was pulled out, or a peer
that does not answer, is something an admin fixes, not a server error.

    rows = managed_channels(request.user)
    page = channel_admin_page(request.user, channel_id)     # Http404, PermissionDenied
    source = source_listing("/media/usb")                   # or "http://10.0.0.5:8000"
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext

from accounts.permissions import owns_or_admin
from channels.models import Channel, ChannelVersion
from channels.progress import human_size
from jobs.models import Job
from jobs.selectors import recent_jobs
from routers.ids import is_valid_channel_id

logger = logging.getLogger(__name__)
TRANSFER_KINDS = ("import", "export", "resume", "scan")


@dataclass(frozen=True)
class ChannelRow:
    channel: Channel
    size: str
    version_count: int
    active_job: Job | None


@dataclass
class ChannelAdminPage:
    channel: Channel
    versions: list[ChannelVersion]
    jobs: list[Job]
    drives: list[str]
    may_export: bool


@dataclass(frozen=True)
class SourceChannel:
    id: str
    name: str
    version: int
    size: str
    node_count: int
    installed_version: int | None
    is_newer: bool
    partial: bool
    problem: str


@dataclass
class SourceListing:
    text: str
    kind: str                      # "disk" or "network"
    location: str                  # the drive path or the peer's base URL, as cleaned
    channels: list[SourceChannel] = field(default_factory=list)
    error: str = ""


def managed_channels(user: Any) -> list[ChannelRow]:
    """Every registered channel for admins (rejected ones too), an author's own otherwise."""
    channels = Channel.objects.all()
    if not getattr(user, "is_admin", False):
        channels = channels.filter(owner_id=user.pk)
    rows = list(channels.order_by("name", "id"))
    counts: dict[str, int] = {}
    for channel_id in ChannelVersion.objects.filter(
            channel_id__in=[row.id for row in rows]).values_list("channel_id", flat=True):
        counts[channel_id] = counts.get(channel_id, 0) + 1
    active = {job.channel_id: job for job in Job.objects.active()
              .filter(channel_id__in=[row.id for row in rows]).order_by("created_at")}
    return [ChannelRow(channel=row, size=human_size(row.total_size),
                       version_count=counts.get(row.id, 0), active_job=active.get(row.id))
            for row in rows]


def managed_channel(user: Any, channel_id: str) -> Channel:
    channel = Channel.objects.filter(id=channel_id).first() \
        if is_valid_channel_id(channel_id) else None
    if channel is None:
        raise Http404(gettext("No such channel on this server."))
    if not owns_or_admin(user, channel.owner_id):
        raise PermissionDenied(gettext("Only an admin or the author who owns this channel may "
                                       "manage it."))
    return channel


def channel_admin_page(user: Any, channel_id: str) -> ChannelAdminPage:
    channel = managed_channel(user, channel_id)
    versions = list(channel.versions.select_related("created_by").order_by("-number"))
    may_export = bool(getattr(user, "is_admin", False))
    return ChannelAdminPage(channel=channel, versions=versions,
                            jobs=recent_jobs(user, channel_id=channel.id, limit=10),
                            drives=detected_drives() if may_export else [],
                            may_export=may_export)


def transfer_jobs(user: Any) -> list[Job]:
    return recent_jobs(user, kinds=TRANSFER_KINDS)


def detected_drives() -> list[str]:
    """Drives and folders with a KOLIBRI_DATA folder, found under the usual mount points."""
    try:
        from channels.transfer.drives import find_drives
    except ImportError:
        return []
    try:
        return [str(path) for path in find_drives()]
    except OSError:
        logger.warning("looking for drives failed", exc_info=True)
        return []


def is_peer_address(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://"))


def source_listing(text: str) -> SourceListing:
    """What the folder or peer `text` (as the admin typed it) offers, or why it cannot tell."""
    from jobs.errors import InvalidJobParamsError
    from jobs.params import clean_drive, clean_peer_url

    kind = "network" if is_peer_address(text) else "disk"
    listing = SourceListing(text=text, kind=kind, location="")
    try:
        if kind == "network":
            listing.location = clean_peer_url({"url": text}, "url")
            found = _list_peer(listing.location)
        else:
            listing.location = clean_drive({"drive": text}, "drive")
            found = _list_drive(listing.location)
    except InvalidJobParamsError as error:
        listing.error = error.message
        return listing
    except Exception as error:  # noqa: BLE001 - the admin reads why, the log has the rest
        if getattr(error, "exit_code", 1) == 1 and not isinstance(error, OSError):
            logger.exception("listing %s failed", text)
        listing.error = " ".join(str(error).split()) or error.__class__.__name__
        return listing
    listing.channels = [_source_channel(item) for item in found]
    return listing


def _list_drive(drive: str) -> list[Any]:
    from channels.transfer.disk import list_drive_channels

    return list(list_drive_channels(drive))


def _list_peer(base_url: str) -> list[Any]:
    try:
        from channels.transfer.network import list_peer_channels
    except ImportError:
        raise RuntimeError("importing from another server is not available on this "
                           "server yet") from None
    return list(list_peer_channels(base_url))


def _source_channel(item: Any) -> SourceChannel:
    def value(name: str, default: Any = None) -> Any:
        if isinstance(item, dict):
            return item.get(name, default)
        return getattr(item, name, default)

    total_size = int(value("total_size", 0) or 0)
    return SourceChannel(id=str(value("id", "") or value("channel_id", "")),
                         name=str(value("name", "") or ""), version=int(value("version", 0) or 0),
                         size=human_size(total_size), node_count=int(value("node_count", 0) or 0),
                         installed_version=value("installed_version"),
                         is_newer=bool(value("is_newer", False)),
                         partial=bool(value("partial", False)),
                         problem=str(value("problem", "") or ""))


def unfinished_imports() -> list[Any]:
    """Imports a reboot or a kill left unfinished, if the transfer services keep them."""
    try:
        from channels.transfer.imports import unfinished_imports as find_unfinished
    except ImportError:
        return []
    return [item for item in find_unfinished() if not item.is_running]
