"""`exportchannel <channel_id> <drive>`: the channel's current database onto a drive, in
Kolibri's layout (KOLIBRI_DATA/content/databases). Files: exportcontent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from channels.transfer.disk import export_channel_to_disk
from channels.transfer.display import TransferProgressDisplay
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Write the channel's current database to a drive or folder (KOLIBRI_DATA is made "
            "if missing). Copy its files with exportcontent.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("channel_id")
        parser.add_argument("drive", help="the drive's root or its KOLIBRI_DATA folder")

    def run(self, *args: Any, **options: Any) -> None:
        display = TransferProgressDisplay(self.stderr)
        try:
            result = export_channel_to_disk(options["channel_id"], Path(options["drive"]),
                                            progress=display)
        finally:
            display.finish()
        self.write_line(f"Exported the database of channel {result.channel_id} version "
                        f"{result.version} to {result.database}.")
