"""`setupdemo`: create the demo channels on the first start only (what `make run` calls)."""

from __future__ import annotations

from typing import Any

from channels.demo.setup import setup_demo_channels
from channels.progress import command_progress, human_size
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Create two small demo channels the first time it runs; later runs do nothing, "
            "so demo channels an admin deleted do not come back.")

    def run(self, *args: Any, **options: Any) -> None:
        reporter = command_progress(self.stderr)
        try:
            result = setup_demo_channels(progress=reporter.update)
        finally:
            reporter.finish()
        if result.already_done:
            self.write_line(f"Demo channels were set up before ({result.marker} exists); "
                            f"nothing to do. Delete that file to create them again.")
            return
        for channel in result.created:
            self.write_line(f'Created demo channel "{channel.name}" ({channel.channel_id}): '
                            f"{channel.node_count:,} nodes, {human_size(channel.total_size)}.")

