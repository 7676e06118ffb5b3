"""Purge the temp area: what a crash or a cancelled upload left behind, older than a day.

Uploads, imports, encodes and builds write in `CONTENT_TEMP_DIR` and rename into place when
whole; a crash leaves their temp files there. Seed 2 empties its temp folder daily; we run
hourly and remove only entries untouched for a day, so an import in progress (which keeps
writing, and so keeps its files young) is never cut off. A folder's age is its youngest
entry's. The databases folder gets the same treatment for its own leftovers: `.swap-*`
(a make-current interrupted before the rename), `*.part` and `*.partial`; never a `-journal`,
which SQLite needs to roll back a file.

An entry's age is the later of its mtime and ctime: a rename (moving a folder into the temp
area) refreshes the ctime even when it keeps an old mtime.

    report = purge_temp()
    report.removed, report.bytes_freed
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

TEMP_MAX_AGE_SECONDS = 24 * 60 * 60
# How deep a temp folder is searched for a young file; deeper means "in use": kept.
MAX_TREE_DEPTH = 32
MAX_TREE_ENTRIES = 100_000
DATABASE_LEFTOVER_SUFFIXES = (".part", ".partial")
DATABASE_LEFTOVER_PREFIX = ".swap-"


@dataclass
class PurgeReport:
    removed: list[Path] = field(default_factory=list)
    kept: int = 0
    bytes_freed: int = 0
    failed: dict[Path, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"removed": len(self.removed), "kept": self.kept,
                "bytes_freed": self.bytes_freed, "failed": len(self.failed)}


def stamp(status: os.stat_result) -> float:
    return max(status.st_mtime, status.st_ctime)


def newest_stamp(path: Path) -> tuple[float, int]:
    """(youngest age stamp, total bytes) of `path` and everything below it, links not followed.

    Bounded: a tree deeper than MAX_TREE_DEPTH or larger than MAX_TREE_ENTRIES counts as
    young (infinite stamp), so it is kept and not walked further.
    """
    status = os.lstat(path)
    newest, size = stamp(status), status.st_size
    if not os.path.isdir(path) or os.path.islink(path):
        return newest, size
    pending: list[tuple[Path, int]] = [(path, 0)]
    seen = 0
    while pending:
        folder, depth = pending.pop()
        if depth >= MAX_TREE_DEPTH:
            return float("inf"), size
        with os.scandir(folder) as entries:
            for entry in entries:
                seen += 1
                if seen > MAX_TREE_ENTRIES:
                    return float("inf"), size
                entry_status = entry.stat(follow_symlinks=False)
                newest = max(newest, stamp(entry_status))
                size += entry_status.st_size
                if entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), depth + 1))
    return newest, size


def _remove(path: Path) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _purge_entries(paths: list[Path], cutoff: float, report: PurgeReport) -> None:
    for path in paths:
        try:
            newest, size = newest_stamp(path)
            if newest >= cutoff:
                report.kept += 1
                continue
            _remove(path)
        except FileNotFoundError:
            continue  # its owner removed it while we looked
        except OSError as error:
            report.failed[path] = str(error)
            continue
        report.removed.append(path)
        report.bytes_freed += size


def database_leftovers(databases_dir: Path) -> list[Path]:
    """Swap and partial files in the databases folder and in each `versions/<channel_id>/`
    and `search/<channel_id>/` (search indexes are built as `.partial` files too)."""
    folders = [databases_dir]
    for subfolder in ("versions", "search"):
        parent = databases_dir / subfolder
        if parent.is_dir():
            folders.extend(sorted(path for path in parent.iterdir()
                                  if path.is_dir() and not path.is_symlink()))
    found: list[Path] = []
    for folder in folders:
        for path in sorted(folder.iterdir()):
            name = path.name
            if name.startswith(DATABASE_LEFTOVER_PREFIX) or name.endswith(
                    DATABASE_LEFTOVER_SUFFIXES):
                if path.is_file() or path.is_symlink():
                    found.append(path)
    return found


def purge_temp(*, max_age_seconds: int = TEMP_MAX_AGE_SECONDS,
               now: float | None = None) -> PurgeReport:
    """Remove temp-area entries and database leftovers untouched for `max_age_seconds`."""
    cutoff = (time.time() if now is None else now) - max_age_seconds
    report = PurgeReport()
    temp_dir = Path(settings.CONTENT_TEMP_DIR)
    if temp_dir.is_dir():
        _purge_entries(sorted(temp_dir.iterdir()), cutoff, report)
    databases_dir = Path(settings.CONTENT_DATABASE_DIR)
    if databases_dir.is_dir():
        _purge_entries(database_leftovers(databases_dir), cutoff, report)
    logger.info("purgetemp: %s", report.as_dict())
    return report
