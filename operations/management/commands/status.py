"""`kolibri-like status [--json]`: the health checks of `/healthz/`, run here.

Exit 0 when healthy, 6 (INTERFACE.md: input/output error) when a check failed.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError

from kolibri_like.command_base import EXIT_IO, ProductCommand
from operations.health import format_report, run_health_checks


class Command(ProductCommand):
    help = "Check the database, channel folder, free space, task queue, consumer and ffmpeg."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print the /healthz/ JSON")

    def run(self, *args: Any, **options: Any) -> None:
        report = run_health_checks()
        if options["json"]:
            self.write_line(json.dumps(report.as_dict(), indent=2))
        else:
            for line in format_report(report):
                self.write_line(line)
        if not report.healthy:
            raise CommandError(f"unhealthy: {', '.join(report.failed_names)} failed",
                               returncode=EXIT_IO)
