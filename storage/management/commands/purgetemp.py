"""`purgetemp`: remove temp-area entries and database leftovers untouched for a day (storage.temp).

Exit codes: 0 done; 6 some entries could not be removed (named on stderr).
"""

from __future__ import annotations

from django.core.management.base import CommandError

from kolibri_like.command_base import EXIT_IO, ProductCommand
from storage.temp import purge_temp


class Command(ProductCommand):
    help = ("Remove files and folders in the temp area (and swap or partial files in the "
            "databases folder) untouched for a day; younger ones may belong to work in progress.")

    def run(self, *args: object, **options: object) -> None:
        report = purge_temp()
        if int(str(options.get("verbosity", 1))) >= 2:
            for path in report.removed:
                self.write_line(f"removed {path}")
        for path, problem in sorted(report.failed.items()):
            self.stderr.write(f"could not remove {path}: {problem}")
        self.write_line(f"Removed {len(report.removed):,} entr{'y' if len(report.removed) == 1 else 'ies'}"
                        f", freed {report.bytes_freed:,} bytes; kept {report.kept:,} younger "
                        f"than a day.")
        if report.failed:
            raise CommandError(f"{len(report.failed)} entr{'y' if len(report.failed) == 1 else 'ies'} "
                               f"could not be removed", returncode=EXIT_IO)
