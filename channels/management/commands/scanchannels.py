from __future__ import annotations

from channels.dropped import install_dropped_older_files
from channels.services import scan_channels
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Register channel database files found in CONTENT_DIR/databases after the checks an "
            "import makes; report and leave out files that fail them. A file in an older "
            "content schema is kept aside and a normalised copy of it is installed.")

    def run(self, *args, **options) -> None:
        for outcome in install_dropped_older_files():
            if outcome.installed:
                self.write_line(f"normalised {outcome.channel_id}: {outcome.message}")
            else:
                self.stderr.write(f"left out {outcome.channel_id}: {outcome.message}")
        report = scan_channels()
        for channel_id in report.registered:
            self.write_line(f"registered {channel_id}")
        for channel_id, problem in sorted(report.rejected.items()):
            self.stderr.write(f"left out {channel_id}: {problem}")
        for channel_id in report.missing:
            self.stderr.write(f"missing {channel_id}: its database file is gone")
        for name in report.ignored:
            self.stderr.write(f"ignored {name}: the name is not <channel_id>.sqlite3")
        served = len(report.registered) + len(report.unchanged)
        self.write_line(f"{served} channel(s) served, {len(report.rejected)} left out.")
