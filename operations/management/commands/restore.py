"""`kolibri-like restore <file> [--force]`: bring a backup back onto this home, then migrate
and recover (operations.restore says how).

Exit 3 no such file, 4 damaged or foreign archive, 5 not enough space, 7 a server is running
on this home, or the home holds data and --force was not given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kolibri_like.command_base import ProductCommand
from operations.restore import restore_backup


class Command(ProductCommand):
    help = "Restore a backup made by `kolibri-like backup` onto this (fresh) home."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the backup archive")
        parser.add_argument("--force", action="store_true",
                            help="overwrite a home that already holds data")

    def run(self, *args: Any, **options: Any) -> None:
        result = restore_backup(Path(options["file"]).expanduser().absolute(),
                                force=options["force"], progress=self.write_line)
        manifest = result.manifest
        for line in result.repairs:
            self.write_line(f"recovered: {line}")
        for line in result.left:
            self.write_line(f"needs you: {line}")
        self.write_line(f"Restored the backup of {manifest.created_at} (kolibri-like "
                        f"{manifest.kolibri_like_version}, {len(manifest.channels)} channel(s)). "
                        "Start the server with `kolibri-like start`.")
