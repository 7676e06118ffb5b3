"""`kolibri-like diagnostics [<file>]`: write the diagnostics text file (operations.diagnostics);
`-` prints it instead. Default: `KOLIBRI_LIKE_HOME/diagnostics/diagnostics-<UTC time>.txt`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kolibri_like.command_base import ProductCommand
from operations.diagnostics import build_diagnostics, clock_warning, write_diagnostics


class Command(ProductCommand):
    help = ("Write one text file with versions, settings (secrets redacted), disk space, "
            "channels, recent task failures and the end of each log.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", nargs="?", help="where to write it; - for the terminal")

    def run(self, *args: Any, **options: Any) -> None:
        if options["file"] == "-":
            self.stdout.write(build_diagnostics(), ending="")
            return
        target = Path(options["file"]).expanduser().absolute() if options["file"] else None
        path = write_diagnostics(target)
        warning = clock_warning()
        if warning:
            self.stderr.write(warning)
        self.write_line(f"Diagnostics written to {path}; send this file to whoever helps you.")
