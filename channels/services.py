"""Writes on channels: install a checked database file as the served one, register, scan.

    install_channel_database(built_path, channel_id)   # a new version, made current
    report = scan_channels()                           # register files dropped into databases/
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from channels.checks import ChannelDatabaseInfo, check_channel_database
from channels.errors import InvalidChannelDatabaseError
from channels.models import Channel
from channels.selectors import forget_channel_state
from channels.versions import record_found_version
from content.search.index import ensure_search_indexes
from routers.ids import is_valid_channel_id
from routers.registry import release_channel_connections

logger = logging.getLogger(__name__)


def install_channel_database(source: Path, channel_id: str, *, version_label: str = "",
                             owner: Any = None, created_by: Any = None,
                             source_label: str = "published") -> Channel:
    """Check `source`, keep it as a new version of `channel_id`, and make it the served file.

    `source` must be on the same filesystem as the databases folder (the temp area is); it is
    moved, not copied. Readers see the old file or the new one, never a mix.
    """
    from channels.versions import install_channel_version

    return install_channel_version(source, channel_id, source_label=source_label,
                                   created_by=created_by, owner=owner,
                                   version_label=version_label).channel


def register_channel(info: ChannelDatabaseInfo, path: Path, *, version_label: str | None = None,
                     owner: Any = None) -> Channel:
    stat = path.stat()
    defaults: dict[str, Any] = {
        "name": info.name, "description": info.description, "version": info.version,
        "root_id": info.root_id, "node_count": info.node_count, "total_size": info.total_size,
        "thumbnail": info.thumbnail, "state": Channel.State.AVAILABLE, "problem": "",
        "file_size": stat.st_size, "file_mtime_ns": stat.st_mtime_ns,
    }
    if version_label is not None:
        defaults["version_label"] = version_label
    if owner is not None:
        defaults["owner"] = owner
    with transaction.atomic():
        channel, _created = Channel.objects.update_or_create(id=info.channel_id,
                                                             defaults=defaults)
    forget_channel_state(info.channel_id)
    return channel


def reject_channel(channel_id: str, path: Path, problem: str) -> Channel:
    stat = path.stat()
    channel, _created = Channel.objects.update_or_create(
        id=channel_id,
        defaults={"state": Channel.State.REJECTED, "problem": problem,
                  "file_size": stat.st_size, "file_mtime_ns": stat.st_mtime_ns},
        create_defaults={"name": path.name, "state": Channel.State.REJECTED, "problem": problem,
                         "file_size": stat.st_size, "file_mtime_ns": stat.st_mtime_ns},
    )
    release_channel_connections(channel_id)
    forget_channel_state(channel_id)
    return channel


@dataclass
class ScanReport:
    registered: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def scan_channels() -> ScanReport:
    """Register channel files found in the databases folder; leave out those that fail the checks.

    A file whose size and modification time match the registry is not checked again, so a
    server with many channels starts quickly. Registry rows whose file is gone are marked
    rejected, with the reason.
    """
    report = ScanReport()
    folder = Path(settings.CONTENT_DATABASE_DIR)
    found: set[str] = set()
    for path in sorted(folder.glob("*.sqlite3")):
        channel_id = path.name.removesuffix(".sqlite3")
        if not is_valid_channel_id(channel_id):
            report.ignored.append(path.name)
            continue
        found.add(channel_id)
        known = Channel.objects.filter(id=channel_id).first()
        stat = path.stat()
        if known is not None and known.file_size == stat.st_size \
                and known.file_mtime_ns == stat.st_mtime_ns:
            if known.state == Channel.State.REJECTED:
                report.rejected[channel_id] = known.problem
            else:
                report.unchanged.append(channel_id)
            continue
        try:
            info = check_channel_database(path, expected_channel_id=channel_id)
        except InvalidChannelDatabaseError as error:
            logger.warning("channel file left out: %s", error)
            reject_channel(channel_id, path, error.reason)
            report.rejected[channel_id] = error.reason
            continue
        register_channel(info, path)
        record_found_version(channel_id, info)
        report.registered.append(channel_id)
    # Kept, not deleted: the row holds the owner and label, and the file may come back.
    for channel in Channel.objects.servable().exclude(id__in=found):
        channel.state = Channel.State.REJECTED
        channel.problem = "its database file is missing from the databases folder"
        channel.save(update_fields=["state", "problem", "updated_at"])
        forget_channel_state(channel.id)
        report.missing.append(channel.id)
    # Channels installed before search existed (an upgrade) get their index now.
    ensure_search_indexes([*report.registered, *report.unchanged])
    return report
