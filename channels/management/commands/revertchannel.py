from __future__ import annotations

from channels.versions import revert_channel
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Make a kept version of a channel current again, atomically; requests in flight finish "
            "on the version they started on.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("channel_id")
        parser.add_argument("version", type=int)

    def run(self, *args, **options) -> None:
        channel = revert_channel(options["channel_id"], options["version"])
        self.write_line(f"{channel.name} ({channel.id}) now serves version {channel.version}.")
