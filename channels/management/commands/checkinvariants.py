"""`checkinvariants [--full] [--json]`: exit 0 when every invariant holds, 4 naming each
violation (what, where, how to fix) otherwise. See channels.invariants and
authoring.invariants (drafts)."""

from __future__ import annotations

import json
from typing import Any

from authoring.invariants import check_drafts
from channels.invariants import check_invariants
from kolibri_like.command_base import EXIT_INVALID, ProductCommand


class InvariantsViolatedError(Exception):
    exit_code = EXIT_INVALID

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} invariant violation(s); `recover` repairs those it names")


class Command(ProductCommand):
    help = ("Check that channel files, kept versions, stored files, the temp area, imports, "
            "tasks and the default database are consistent; exit 4 naming each violation.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--full", action="store_true",
                            help="integrity_check channel files and hash every stored file")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def run(self, *args: Any, **options: Any) -> None:
        report = check_invariants(full=options["full"])
        check_drafts(report)
        if options["json"]:
            self.write_line(json.dumps(report.as_dict(), indent=2))
        else:
            for violation in report.violations:
                self.write_line(violation.line)
            for check, count in sorted(report.unlisted().items()):
                self.write_line(f"... and {count} more {check} violation(s)")
            for channel_id in report.busy:
                self.write_line(f"channel {channel_id}: busy (another operation); not judged")
            if report.ok:
                self.write_line(f"All invariants hold ({report.md5_checked} stored file(s) "
                                "hashed).")
        if not report.ok:
            raise InvariantsViolatedError(report.violation_count)
