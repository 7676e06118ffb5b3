from __future__ import annotations

import json

from channels.errors import ChannelNotFoundError
from channels.models import Channel, ChannelVersion
from channels.progress import human_size
from kolibri_like.command_base import ProductCommand
from routers.ids import is_valid_channel_id


class Command(ProductCommand):
    help = "List the versions of a channel kept on this server; the current one is marked."

    def add_arguments(self, parser) -> None:
        parser.add_argument("channel_id")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def run(self, *args, **options) -> None:
        channel_id = options["channel_id"]
        channel = Channel.objects.filter(id=channel_id).first() \
            if is_valid_channel_id(channel_id) else None
        if channel is None:
            raise ChannelNotFoundError(channel_id)
        versions = list(ChannelVersion.objects.filter(channel=channel)
                        .select_related("created_by").order_by("-number"))
        rows = [{
            "number": version.number,
            "current": version.number == channel.version,
            "created_at": version.created_at.isoformat(),
            "source": version.source,
            "created_by": version.created_by.username if version.created_by else None,
            "version_label": version.version_label,
            "name": version.name,
            "node_count": version.node_count,
            "file_count": version.file_count,
            "total_size": version.total_size,
        } for version in versions]
        if options["json"]:
            self.write_line(json.dumps(rows, indent=2))
            return
        self.write_line(f"{channel.name} ({channel.id})")
        for row in rows:
            marker = "*" if row["current"] else " "
            who = f" by {row['created_by']}" if row["created_by"] else ""
            label = f" \"{row['version_label']}\"" if row["version_label"] else ""
            self.write_line(
                f"{marker} v{row['number']}{label}  {row['created_at'][:19].replace('T', ' ')}  "
                f"{row['node_count']} nodes, {human_size(row['total_size'])}  "
                f"{row['source']}{who}")
        self.write_line("* current version")
