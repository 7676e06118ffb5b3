"""`importcontent disk|network <channel_id> <drive|url> [--node_ids a,b] [--exclude_node_ids c]`:
the files of an installed channel (or of chosen subtrees) from a drive or a peer server.

Files already here are skipped and each copy is verified (MD5). A file missing or damaged on
the source is skipped and listed (exit 4); the rest are imported. Interrupted (Ctrl-C, drive
pulled out, disk full, reboot): run the same command again to resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from channels.progress import human_size
from channels.transfer.base import ContentImportResult
from channels.transfer.disk import import_content_from_disk
from channels.transfer.display import TransferProgressDisplay, reporting_failed_files
from channels.transfer.network import import_content_from_network
from channels.transfer.selection import parse_node_ids
from kolibri_like.command_base import ProductCommand


def add_selection_arguments(parser: CommandParser) -> None:
    parser.add_argument("--node_ids", "--node-ids", dest="node_ids", default=None,
                        help="comma-separated node ids: only these subtrees")
    parser.add_argument("--exclude_node_ids", "--exclude-node-ids", dest="exclude_node_ids",
                        default=None, help="comma-separated node ids: leave these subtrees out")


class Command(ProductCommand):
    help = ("Import the files of an installed channel, or of chosen subtrees, from a drive or "
            "another server on the LAN, verifying each one. Run it again to resume.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", choices=["disk", "network"])
        parser.add_argument("channel_id")
        parser.add_argument("location", help="the drive or folder, or the server's address")
        add_selection_arguments(parser)

    def run(self, *args: Any, **options: Any) -> None:
        channel_id, location = options["channel_id"], options["location"]
        node_ids = parse_node_ids(options["node_ids"])
        exclude_node_ids = parse_node_ids(options["exclude_node_ids"])
        display = TransferProgressDisplay(self.stderr)
        with reporting_failed_files(self, display, summary, ContentImportResult, "imported"):
            if options["source"] == "disk":
                result = import_content_from_disk(channel_id, Path(location), node_ids=node_ids,
                                                  exclude_node_ids=exclude_node_ids,
                                                  progress=display)
            else:
                result = import_content_from_network(channel_id, location, node_ids=node_ids,
                                                     exclude_node_ids=exclude_node_ids,
                                                     progress=display)
        self.write_line(summary(result))


def summary(result: ContentImportResult) -> str:
    text = (f"Imported {result.copied:,} file(s) ({human_size(result.bytes_copied)}) of channel "
            f"{result.channel_id} version {result.version} from {result.source}; "
            f"{result.already_present:,} already here")
    if result.not_on_source:
        text += f"; {result.not_on_source:,} not on this partial drive"
    if result.failures:
        text += f"; {len(result.failures):,} failed"
    return text + "."
