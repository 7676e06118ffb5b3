"""`generate_demo_channel --nodes N --seed S [--name NAME]`: a demo channel with real media.

Progress goes to stderr (a bar on a terminal, plain lines otherwise); stdout gets a summary
and, on its last line, the channel id alone, so a script can take it with `tail -n 1`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from channels.demo.generate import generate_demo_channel
from channels.demo.tree import MAX_NODES, MIN_NODES
from channels.progress import command_progress, human_size
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Generate a demo channel with real media made by ffmpeg (mp4 and webm video with "
            "captions, mp3 audio, PDF worksheets, a thumbnail per node). A seed always gives "
            "the same channel id (running it again replaces that channel), and with the same "
            "--nodes the same tree. Prints the channel id on the last line.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--nodes", type=int, default=40,
                            help=f"how many nodes, root included ({MIN_NODES} to {MAX_NODES:,})")
        parser.add_argument("--seed", type=int, default=1,
                            help="chooses the subject, ids, shape and media (default 1)")
        parser.add_argument("--name", default=None,
                            help='the channel name (default "Demo: <subject of the seed>")')

    def run(self, *args: Any, **options: Any) -> None:
        reporter = command_progress(self.stderr)
        try:
            result = generate_demo_channel(nodes=options["nodes"], seed=options["seed"],
                                           name=options["name"], progress=reporter.update)
        finally:
            reporter.finish()
        self.write_line(
            f'Demo channel "{result.name}": {result.node_count:,} nodes, '
            f"{result.file_count:,} distinct files, {human_size(result.total_size)}, "
            f"made in {result.seconds:.1f} s.")
        self.write_line(result.channel_id)

