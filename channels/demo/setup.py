"""The demo channels a new server starts with: made the first time only, never brought back.

`make run` calls `setupdemo` on every start. The first run creates two small demo channels and
then writes the marker file `$KOLIBRI_LIKE_HOME/demo-created`; every later run sees the marker
and does nothing, so channels an admin deleted stay deleted. A run that fails half way writes
no marker, and the next start tries again (the same seeds give the same channel ids, so a
channel made before the failure is replaced, not duplicated).

    result = setup_demo_channels()
    result.already_done, [channel.channel_id for channel in result.created]
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from django.conf import settings
from django.utils import timezone

from channels.demo.generate import DemoChannelResult, generate_demo_channel

MARKER_NAME = "demo-created"


@dataclass(frozen=True)
class DemoChannelPlan:
    seed: int
    nodes: int
    name: str


DEMO_CHANNELS = (
    DemoChannelPlan(seed=1, nodes=40, name="Demo: Science"),
    DemoChannelPlan(seed=2, nodes=25, name="Demo: Mathematics"),
)


@dataclass(frozen=True)
class SetupDemoResult:
    marker: Path
    already_done: bool
    created: list[DemoChannelResult] = field(default_factory=list)


def demo_marker_path() -> Path:
    return Path(settings.HOME) / MARKER_NAME


def setup_demo_channels(
        progress: Callable[[str, int, int], None] | None = None) -> SetupDemoResult:
    """Create the demo channels unless the marker says they were created before."""
    marker = demo_marker_path()
    if marker.exists():
        return SetupDemoResult(marker=marker, already_done=True)
    created = [generate_demo_channel(nodes=plan.nodes, seed=plan.seed, name=plan.name,
                                     progress=progress) for plan in DEMO_CHANNELS]
    _write_marker(marker, {
        "created_at": timezone.now().isoformat(),
        "channels": [{"id": result.channel_id, "name": result.name} for result in created],
        "note": "Demo channels are created once. Delete this file to create them again.",
    })
    return SetupDemoResult(marker=marker, already_done=False, created=created)


def _write_marker(marker: Path, content: dict[str, object]) -> None:
    """Write-then-rename, so a crash never leaves a half-written marker."""
    marker.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(dir=marker.parent, prefix=".demo-created-")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(content, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, marker)
    finally:
        Path(temp_name).unlink(missing_ok=True)
