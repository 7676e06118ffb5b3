"""Revert speed: make an older version of an N-node channel current, against copying its file.

    .venv/bin/python -m benchmarks.revert --nodes 50000 --rounds 20

Runs in a throwaway KOLIBRI_LIKE_HOME. The baseline, measured in the same run on the same files,
is what a revert by copying would cost: `shutil.copyfile` of the version file plus fsync. The
goal (issue 7, scenario 6) is a revert of a 50,000-node channel in at most 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=20)
    arguments = parser.parse_args()

    home = tempfile.mkdtemp(prefix="kolibri-like-bench-")
    os.environ["KOLIBRI_LIKE_HOME"] = home
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kolibri_like.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from benchmarks.report import record_result
    from channels.builder import ChannelSpec, NodeSpec, build_channel
    from channels.versions import revert_channel, version_database_path

    def tree(label: str) -> NodeSpec:
        root = NodeSpec(title=f"{label} root")
        per_topic = 100
        for start in range(0, arguments.nodes - 1, per_topic + 1):
            topic = NodeSpec(title=f"{label} topic {start}")
            topic.children = [NodeSpec(title=f"{label} item {start + index}", kind="document")
                              for index in range(min(per_topic, arguments.nodes - 2 - start))]
            root.children.append(topic)
        return root

    first = build_channel(ChannelSpec(name="Bench", root=tree("one")))
    build_channel(ChannelSpec(name="Bench", id=first.channel_id, root=tree("two")))
    kept = version_database_path(first.channel_id, 1)

    revert_times, copy_times = [], []
    for round_number in range(arguments.rounds):
        started = time.perf_counter()
        revert_channel(first.channel_id, 1 if round_number % 2 == 0 else 2)
        revert_times.append(time.perf_counter() - started)
        target = kept.with_name("copy-baseline.sqlite3")
        started = time.perf_counter()
        shutil.copyfile(kept, target)
        with open(target, "rb+") as handle:
            os.fsync(handle.fileno())
        copy_times.append(time.perf_counter() - started)
        target.unlink()

    size_mb = kept.stat().st_size / 1e6
    revert_median, copy_median = statistics.median(revert_times), statistics.median(copy_times)
    lines = [
        f"channel: {first.node_count} nodes, version file {size_mb:.1f} MB, {arguments.rounds} rounds",
        "| what | median s | min s | max s |",
        "|---|---|---|---|",
        f"| revert (link + rename + registry) | {revert_median:.4f} | {min(revert_times):.4f} | "
        f"{max(revert_times):.4f} |",
        f"| baseline: copy the file + fsync | {copy_median:.4f} | {min(copy_times):.4f} | "
        f"{max(copy_times):.4f} |",
        f"ratio revert / copy: {revert_median / copy_median:.3f}; goal: revert <= 0.2 s: "
        f"{'met' if revert_median <= 0.2 else 'NOT met'}",
    ]
    print("\n".join(lines))
    record_result("revert", "Revert of a channel version", lines)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
