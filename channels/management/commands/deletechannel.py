from __future__ import annotations

from channels.versions import delete_channel
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Remove a channel and all its versions. Its stored files are deleted later by "
            "gcstorage, once nothing else uses them.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("channel_id")

    def run(self, *args, **options) -> None:
        delete_channel(options["channel_id"])
        self.write_line(f"Deleted channel {options['channel_id']}.")
