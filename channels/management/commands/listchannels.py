"""`listchannels [--json]`: the channels this server knows, with size, nodes and state.

The table is for people; `--json` prints the fields of `GET /api/channels/` plus `state` and
`problem` (why a rejected file is not served), for scripts.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from channels.models import Channel
from channels.progress import human_size
from kolibri_like.command_base import ProductCommand

API_FIELDS = ("id", "name", "description", "version", "version_label", "root_id",
              "node_count", "total_size", "thumbnail")


def channel_listing(channel: Channel) -> dict[str, Any]:
    """One channel as `/api/channels/` shows it, plus its state on this server."""
    row: dict[str, Any] = {name: getattr(channel, name) for name in API_FIELDS}
    row["state"] = channel.state
    row["problem"] = channel.problem
    return row


class Command(ProductCommand):
    help = "List the installed channels: id, name, version, nodes, size and state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true",
                            help="print a JSON list (the fields of /api/channels/ and state)")

    def run(self, *args: Any, **options: Any) -> None:
        channels = list(Channel.objects.order_by("name", "id"))
        if options["json"]:
            self.write_line(json.dumps([channel_listing(channel) for channel in channels],
                                       indent=2))
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
        widths = [max(len(row[column]) for row in rows) for column in range(5)]
        for row in rows:
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]),
                     row[2].rjust(widths[2]), row[3].rjust(widths[3]),
                     row[4].rjust(widths[4]), row[5]]
            self.write_line("  ".join(cells).rstrip())
        self.write_line(f"{len(channels)} channel(s).")
