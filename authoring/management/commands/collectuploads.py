"""`collectuploads`: remove uploads that belong to no live draft (authoring.collector).

Exit codes: 0 done; 7 the file store was busy (a collection is running): run it again later.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from authoring.collector import collect_upload_zombies
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Remove uploads of cancelled or crashed drafts (partial files, registry entries and "
            "stored files nothing else uses) older than the grace period. Runs hourly by itself.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--grace", type=int, default=None,
                            help="seconds an upload must be untouched before it is collected "
                                 "(default: STORAGE_GC_GRACE_SECONDS)")

    def run(self, *args: object, **options: object) -> None:
        grace = options.get("grace")
        if grace is not None and int(str(grace)) < 0:
            raise CommandError("--grace must be 0 or more seconds", returncode=2)
        report = collect_upload_zombies(grace=None if grace is None else int(str(grace)))
        self.write_line(
            f"Removed {report.orphaned_entries} orphaned upload(s), "
            f"{report.published_entries} entr{'y' if report.published_entries == 1 else 'ies'} of "
            f"published drafts and {len(report.stray_partials)} stray partial file(s); "
            f"updated {len(report.courses_updated)} course(s) whose videos finished encoding.")
        if report.store_busy:
            raise CommandError("The file store was busy; some uploads were kept. Run it again "
                               "later.", returncode=7)
