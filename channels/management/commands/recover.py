"""`recover`: start-up recovery (channels.recovery, then authoring.recovery for publishes cut
off by a crash), one line per repair; exit 0."""

from __future__ import annotations

from typing import Any

from authoring.recovery import recover_drafts
from channels.recovery import recover
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Put right what a crash or a power cut left half-done: unfinished installs, a "
            "registry behind its served file, lost versions, old leftovers, dead tasks and "
            "imports. Safe to run on every start.")

    def run(self, *args: Any, **options: Any) -> None:
        report = recover()
        recover_drafts(report)
        for line in report.repairs:
            self.write_line(line)
        for line in report.left:
            self.stderr.write(f"not repaired: {line}")
        self.write_line(f"Recovery done: {len(report.repairs)} repair(s), "
                        f"{len(report.left)} left for `checkinvariants`.")
