"""`exportcontent <channel_id> <drive> [--node_ids a,b] [--exclude_node_ids c]`: the files of a
channel (or of chosen subtrees) onto a drive, then manifest.json, then the database, last.

Files already on the drive with the right size are skipped; every copy is verified. Only nodes
whose files are all on this server are exported (the manifest says which).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from channels.management.commands.importcontent import add_selection_arguments
from channels.progress import human_size
from channels.transfer.disk import ExportResult, export_content_to_disk
from channels.transfer.display import TransferProgressDisplay, reporting_failed_files
from channels.transfer.selection import parse_node_ids
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Copy the files of a channel, or of chosen subtrees, to a drive or folder with "
            "manifest.json and the database (written last). Run it again to resume.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("channel_id")
        parser.add_argument("drive", help="the drive's root or its KOLIBRI_DATA folder")
        add_selection_arguments(parser)

    def run(self, *args: Any, **options: Any) -> None:
        display = TransferProgressDisplay(self.stderr)
        with reporting_failed_files(self, display, summary, ExportResult, "exported"):
            result = export_content_to_disk(
                options["channel_id"], Path(options["drive"]),
                node_ids=parse_node_ids(options["node_ids"]),
                exclude_node_ids=parse_node_ids(options["exclude_node_ids"]), progress=display)
        self.write_line(summary(result))


def summary(result: ExportResult) -> str:
    text = (f"Exported {result.copied:,} file(s) ({human_size(result.bytes_copied)}) of channel "
            f"{result.channel_id} version {result.version} to {result.drive}; "
            f"{result.already_on_drive:,} already there")
    if result.nodes_not_here:
        text += f"; {result.nodes_not_here:,} node(s) left out (files not on this server)"
    if result.failures:
        text += f"; {len(result.failures):,} failed"
    return text + "."
