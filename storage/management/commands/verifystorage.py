"""`verifystorage [--repair]`: re-hash every stored file and report what is wrong (storage.verify).

Exit codes: 0 all good; 4 problems found (missing, corrupt or unregistered files, or a reference
source that could not be read), also after `--repair` fixed what it could; 7 a collector or
another check holds the lock.

Progress goes to stderr: a bar redrawn in place on a terminal, a line per 10% otherwise. (The
channels' progress reporter would do, but storage imports no app of ours.)
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError, CommandParser

from kolibri_like.command_base import EXIT_INVALID, ProductCommand
from storage.verify import Finding, VerifyReport, verify_storage

BAR_WIDTH = 30
REDRAW_SECONDS = 0.1


class FileCheckProgress:
    """`update(stage, done, total)` for one stage: a bar on a terminal, else 10% lines."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.is_terminal = stream, stream.isatty()
        self.last_draw, self.last_tenth = 0.0, -1

    def _write(self, text: str) -> None:
        self.stream.write(text, style_func=lambda value: value, ending="")
        self.stream.flush()

    def update(self, stage: str, done: int, total: int) -> None:
        percent = 100 if total <= 0 else done * 100 // total
        if self.is_terminal:
            now = time.monotonic()
            if done < total and now - self.last_draw < REDRAW_SECONDS:
                return
            self.last_draw = now
            filled = BAR_WIDTH * percent // 100
            self._write(f"\rfiles checked [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] "
                        f"{done:,}/{total:,} {percent:>3}%" + ("\n" if done >= total else ""))
        elif percent // 10 > self.last_tenth:
            self.last_tenth = percent // 10
            self._write(f"files checked: {done:,}/{total:,} ({percent}%)\n")


class Command(ProductCommand):
    help = ("Re-hash every stored file; report missing, corrupt, unregistered and unreferenced "
            "files and the channels they affect. Missing and corrupt files lose their registry "
            "row, so their nodes show as unavailable. --repair also moves corrupt bytes to "
            "CONTENT_DIR/quarantine/ and registers whole files that had no row.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repair", action="store_true",
                            help="quarantine corrupt files and register unregistered ones")
        parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                            help="wait this long for a running collector to finish (default 0)")

    def run(self, *args: Any, **options: Any) -> None:
        progress = FileCheckProgress(self.stderr)
        report = verify_storage(repair=bool(options["repair"]), progress=progress.update,
                                wait_seconds=float(options["wait"] or 0))
        self._print_findings("missing", report.missing)
        self._print_findings("corrupt", report.corrupt)
        self._print_findings("orphaned", report.unregistered)
        if int(str(options.get("verbosity", 1))) >= 2:
            for checksum in report.unreferenced:
                self.write_line(f"unreferenced {checksum}: no channel, draft or certificate "
                                f"uses it")
        for path in report.unrecognised:
            self.write_line(f"unrecognised {path} (not a stored file name; never served)")
        self._print_affected(report)
        for name, problem in sorted(report.source_errors.items()):
            self.stderr.write(f"reference source {name} could not be read: {problem}")
        self.write_line(
            f"Checked {report.checked:,} file(s): {len(report.missing):,} missing, "
            f"{len(report.corrupt):,} corrupt, {len(report.unregistered):,} orphaned (no "
            f"registry row), {len(report.unreferenced):,} referenced by nothing (gcstorage "
            f"collects those after the grace period).")
        if report.problem_count:
            hint = "" if report.repair else " Run with --repair to quarantine and re-register."
            raise CommandError(f"{report.problem_count} problem(s) found.{hint} Re-import the "
                               f"affected channels' content to bring missing files back.",
                               returncode=EXIT_INVALID)

    def _print_findings(self, kind: str, findings: list[Finding]) -> None:
        for finding in findings:
            self.write_line(f"{kind} {finding.checksum}.{finding.extension}: {finding.detail}")

    def _print_affected(self, report: VerifyReport) -> None:
        """One line per channel version that lost files: those nodes are now unavailable."""
        counts: dict[str, int] = {}
        for users in report.affected.values():
            for user in users:
                counts[user] = counts.get(user, 0) + 1
        for user, count in sorted(counts.items()):
            self.write_line(f"affected: {user}: {count:,} file(s) missing or corrupt; "
                            f"nodes using them are unavailable")
