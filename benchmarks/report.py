"""Write a benchmark's latest figures into benchmarks/RESULTS.md, one section per scenario."""

from __future__ import annotations

import datetime
import platform
import re
import subprocess
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = ("# Benchmark results\n\nLatest figures per scenario; each section says how to "
          "reproduce it. Ratios against the in-run baseline are the figures that count on this "
          "shared machine.\n")


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=RESULTS.parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def record_result(key: str, title: str, lines: list[str]) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    stamp = (f"{datetime.date.today().isoformat()}, commit {_commit()}, "
             f"{platform.machine()} {platform.python_version()}, {_cpu_count()} cores")
    section = (f"<!-- {key} -->\n## {title}\n\n`.venv/bin/python -m benchmarks.{key}` "
               f"({stamp})\n\n" + "\n".join(lines) + f"\n<!-- /{key} -->\n")
    pattern = re.compile(rf"<!-- {re.escape(key)} -->.*?<!-- /{re.escape(key)} -->\n", re.S)
    text = pattern.sub(lambda _match: section, text) if pattern.search(text) else \
        text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1
