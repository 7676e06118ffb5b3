"""`gcstorage [--dry-run]`: delete stored files that nothing references (storage.gc).

Exit codes: 0 done; 7 another collector or storage check holds the lock; 4 or 6 when a
reference source fails (nothing is deleted then); 1 a bug.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from kolibri_like.command_base import ProductCommand
from storage.gc import collect_garbage


class Command(ProductCommand):
    help = ("Delete stored files that no channel version, draft or certificate references and "
            "that are older than STORAGE_GC_GRACE_SECONDS; delete nothing if any reference "
            "source cannot be read.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="list what would be deleted, delete nothing")
        parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                            help="wait this long for another collector to finish (default 0)")

    def run(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        report = collect_garbage(dry_run=dry_run, wait_seconds=float(options["wait"] or 0))
        verb = "would delete" if dry_run else "deleted"
        if dry_run or int(str(options.get("verbosity", 1))) >= 2:
            for item in report.deleted:
                names = ", ".join(f"{item.checksum}.{extension}" for extension in item.extensions)
                self.write_line(f"{verb} {names or item.checksum + ' (registry row only)'} "
                                f"({item.size:,} bytes)")
        sources = ", ".join(f"{name}: {count:,}" for name, count in report.sources.items())
        self.write_line(
            f"Examined {report.examined:,} stored file(s): {report.referenced:,} referenced "
            f"({sources}), {report.young:,} younger than the grace period "
            f"({report.grace_seconds:,} s), {report.changed:,} changed while collecting.")
        self.write_line(f"{verb.capitalize()} {len(report.deleted):,} file(s), "
                        f"{'would free' if dry_run else 'freed'} {report.bytes_freed:,} bytes.")
