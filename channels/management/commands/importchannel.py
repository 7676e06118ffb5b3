"""`importchannel disk|network <channel_id> <drive|url> [--full]`: a channel's database from a
USB drive or a peer server, checked, then installed as a new version if it is newer.

    kolibri-like importchannel disk 0123...cdef /media/usb
    kolibri-like importchannel network 0123...cdef http://192.168.1.10:8000
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from channels.transfer.disk import import_channel_from_disk
from channels.transfer.display import TransferProgressDisplay
from channels.transfer.network import import_channel_from_network
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Import a channel's database from a drive (its root or KOLIBRI_DATA folder) or from "
            "another server on the LAN. It is checked before it becomes visible and installed "
            "as a new version if it is newer than this server's; then import its files with "
            "importcontent.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", choices=["disk", "network"])
        parser.add_argument("channel_id")
        parser.add_argument("location", help="the drive or folder, or the server's address")
        parser.add_argument("--full", action="store_true",
                            help="also run PRAGMA integrity_check (reads every page: slower)")

    def run(self, *args: Any, **options: Any) -> None:
        channel_id, location = options["channel_id"], options["location"]
        display = TransferProgressDisplay(self.stderr)
        try:
            if options["source"] == "disk":
                result = import_channel_from_disk(channel_id, Path(location),
                                                  full_check=options["full"], progress=display)
            else:
                result = import_channel_from_network(channel_id, location, progress=display,
                                                     full_check=options["full"])
        finally:
            display.finish()
        if not result.installed:
            self.write_line(f'Channel "{result.name}" ({channel_id}) version {result.version} '
                            f"is already installed; nothing to do.")
            return
        previous = f" (was version {result.previous_version})" if result.previous_version else ""
        self.write_line(f'Installed channel "{result.name}" ({channel_id}) version '
                        f"{result.version}{previous} from {result.source}.")
        self.write_line(f"Import its files with: kolibri-like importcontent {options['source']} "
                        f"{channel_id} {location}")
