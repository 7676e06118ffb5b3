"""`kolibri-like backup [<file>] [--all]`: one archive of what exists nowhere else.

Default file: `KOLIBRI_LIKE_HOME/backups/kolibri-like-backup-<UTC time>.tar`. Safe while the
server runs (operations.backup says how). Exit 5 when the target lacks space, 7 when the file
exists already.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kolibri_like.command_base import ProductCommand
from operations.backup import create_backup
from operations.health import format_bytes


class Command(ProductCommand):
    help = ("Back up users, progress, drafts, certificates and the channels authored here "
            "into one archive (--all adds imported channels).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", nargs="?", help="archive to write (default: under "
                            "KOLIBRI_LIKE_HOME/backups)")
        parser.add_argument("--all", action="store_true", dest="include_imported",
                            help="also imported channels (their versions and files)")

    def run(self, *args: Any, **options: Any) -> None:
        target = Path(options["file"]).expanduser().absolute() if options["file"] else None
        result = create_backup(target, include_imported=options["include_imported"],
                               progress=self.write_line)
        manifest = result.manifest
        self.write_line(f"Backed up {len(manifest.files)} files, {len(manifest.channels)} "
                        f"channel(s), into {result.path} ({format_bytes(result.size)}).")
        if manifest.missing:
            self.write_line(f"warning: {len(manifest.missing)} file(s) were already missing on "
                            "disk and are not in the backup; `checkinvariants` says why.")
