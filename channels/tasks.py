"""Background tasks of channels: thin shims over services (they take ids, never instances)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from channels.dropped import install_dropped_older_files
from channels.services import scan_channels


@db_task()
def scan_channels_task() -> dict[str, object]:
    """Register channel files dropped into the databases folder (same as `scanchannels`: a file
    in an older schema is kept aside and a normalised copy installed first)."""
    install_dropped_older_files()
    report = scan_channels()
    return {"registered": report.registered, "rejected": report.rejected,
            "missing": report.missing, "unchanged": len(report.unchanged)}
