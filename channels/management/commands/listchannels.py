"""`listchannels [disk <drive> | network <url>] [--json]`: the channels this server has, or those
on a drive or a peer server with whether each is newer than ours.

The installed list also shows content imports left unfinished (Ctrl-C, a pulled drive, a
reboot) with the command that resumes each. The table is for people; `--json` is for scripts:
installed channels have the fields of `GET /api/channels/` plus `state`, `problem` and
`unfinished_imports`; drive and peer channels have `installed_version` and `is_newer`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from channels.models import Channel
from channels.progress import human_size
from channels.transfer.disk import list_drive_channels
from channels.transfer.imports import UnfinishedImport, unfinished_imports
from channels.transfer.network import list_peer_channels
from kolibri_like.command_base import EXIT_USAGE, ProductCommand

API_FIELDS = ("id", "name", "description", "version", "version_label", "root_id",
              "node_count", "total_size", "thumbnail")


def channel_listing(channel: Channel,
                    unfinished: list[UnfinishedImport] | None = None) -> dict[str, Any]:
    """One channel as `/api/channels/` shows it, plus its state on this server."""
    row: dict[str, Any] = {name: getattr(channel, name) for name in API_FIELDS}
    row["state"] = channel.state
    row["problem"] = channel.problem
    row["unfinished_imports"] = [
        {**asdict(item), "command": item.command} for item in unfinished or []]
    return row


def table(rows: Sequence[tuple[str, ...]], right_aligned: set[int]) -> list[str]:
    """Columns padded to their widest cell; the last column is left as it is."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.rjust(widths[index]) if index in right_aligned else cell.ljust(widths[index])
                 for index, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


class Command(ProductCommand):
    help = ("List the installed channels (and unfinished imports), or with `disk <drive>` or "
            "`network <url>` the channels on a drive or another server.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", nargs="?", choices=["disk", "network"],
                            help="list a drive's or another server's channels instead")
        parser.add_argument("location", nargs="?", help="the drive or folder, or the address")
        parser.add_argument("--json", action="store_true", help="print a JSON list")

    def run(self, *args: Any, **options: Any) -> None:
        source, location = options["source"], options["location"]
        if (source is None) != (location is None):
            raise CommandError("give both: `listchannels disk <drive>` or "
                               "`listchannels network <url>`", returncode=EXIT_USAGE)
        if source == "disk":
            self._list_elsewhere(list_drive_channels(Path(location)), options["json"],
                                 f"drive {location}")
        elif source == "network":
            self._list_elsewhere(list_peer_channels(location), options["json"], location)
        else:
            self._list_installed(options["json"])

    def _list_installed(self, as_json: bool) -> None:
        channels = list(Channel.objects.order_by("name", "id"))
        unfinished = unfinished_imports()
        by_channel: dict[str, list[UnfinishedImport]] = {}
        for item in unfinished:
            by_channel.setdefault(item.channel_id, []).append(item)
        if as_json:
            self.write_line(json.dumps([channel_listing(channel, by_channel.get(channel.id))
                                        for channel in channels], indent=2))
            return
        if not channels:
            self.write_line("No channels installed. Import one, or run "
                            "`kolibri-like generate_demo_channel --nodes 40 --seed 1`.")
            return
        rows = [("ID", "NAME", "VERSION", "NODES", "SIZE", "STATE")]
        for channel in channels:
            state = channel.state
            if channel.state == Channel.State.REJECTED:
                state = f"{state}: {channel.problem}"
            rows.append((channel.id, channel.name, str(channel.version),
                         f"{channel.node_count:,}", human_size(channel.total_size), state))
        for line in table(rows, right_aligned={2, 3, 4}):
            self.write_line(line)
        for item in unfinished:
            self.write_line(describe_unfinished(item))
        self.write_line(f"{len(channels)} channel(s).")

    def _list_elsewhere(self, channels: list[Any], as_json: bool, where: str) -> None:
        if as_json:
            self.write_line(json.dumps([asdict(channel) for channel in channels], indent=2))
            return
        if not channels:
            self.write_line(f"No channels on {where}.")
            return
        rows = [("ID", "NAME", "VERSION", "HERE", "NODES", "SIZE", "STATUS")]
        for channel in channels:
            problem = getattr(channel, "problem", "")
            if problem:
                status = f"cannot be imported: {problem}"
            elif channel.is_newer:
                status = "newer" if channel.installed_version else "not installed"
            else:
                status = "installed" if channel.installed_version == channel.version \
                    else "not newer"
            if getattr(channel, "partial", False):
                status += " (partial: some nodes only)"
            here = str(channel.installed_version) if channel.installed_version else "-"
            rows.append((channel.id, channel.name, str(channel.version), here,
                         f"{channel.node_count:,}", human_size(channel.total_size), status))
        for line in table(rows, right_aligned={2, 3, 4, 5}):
            self.write_line(line)
        self.write_line(f"{len(channels)} channel(s) on {where}.")


def describe_unfinished(item: UnfinishedImport) -> str:
    state = "running now" if item.is_running else (
        "stopped (by a reboot or a kill)" if item.state == "running" else item.state)
    text = (f"Unfinished import {item.id} of {item.channel_name} from {item.source_kind} "
            f"{item.source}: {item.files_done:,}/{item.files_total:,} files, {state}")
    if item.problem:
        text += f" ({item.problem[:200]})"
    if not item.is_running:
        text += f". Resume: {item.command}"
    return text
