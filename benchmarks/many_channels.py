"""Scenario 4 of issue 7: many channels. Random requests across N channel files against one.

    .venv/bin/python -m benchmarks.many_channels            # 1,000 channels, up to 100,000 requests
    .venv/bin/python -m benchmarks.many_channels --quick    # 40 channels, up to 1,500 requests

1. Build N channels of 500 nodes (topics of 30 children) in a throwaway KOLIBRI_LIKE_HOME and
   start the production server (`kolibri-like start`, no consumer) on 127.0.0.1.
2. Warm up with 1,000 random requests (children of a random topic of a random channel, c=16);
   read the server's RSS and open descriptors (/proc/<pid>).
3. p99 at c=16 for a bounded time: every request to one channel, then random across all.
4. Go on with random requests up to the request budget (bounded in time too); read RSS and
   descriptors again. The descriptor bound is SERVER_THREADS x CONTENT_DB_CONNECTIONS_PER_THREAD.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
from pathlib import Path
from benchmarks.home import use_throwaway_home

CONCURRENCY = 16
NODES_PER_CHANNEL = 500
WARM_REQUESTS = 1_000


def process_figures(pid: int) -> tuple[float, int, int]:
    """(RSS in MB, open file descriptors, of which channel database files) of a process."""
    rss_kb = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
    descriptors = os.listdir(f"/proc/{pid}/fd")
    channel_files = 0
    for descriptor in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
        except OSError:  # closed since the listing
            continue
        if "/databases/" in target and target.endswith(".sqlite3"):
            channel_files += 1
    return rss_kb / 1024, len(descriptors), channel_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--channels", type=int, default=None)
    parser.add_argument("--requests", type=int, default=None, help="total request budget")
    parser.add_argument("--seconds", type=float, default=None, help="per p99 run")
    arguments = parser.parse_args()
    channel_total = arguments.channels or (40 if arguments.quick else 1_000)
    request_budget = arguments.requests or (1_500 if arguments.quick else 100_000)
    seconds = arguments.seconds or (1.5 if arguments.quick else 10.0)
    # The long phase is bounded in time as well as count; the table says how many were made.
    long_phase_seconds = 5.0 if arguments.quick else 360.0
    warm_requests = 300 if arguments.quick else WARM_REQUESTS

    home = use_throwaway_home()
    server = None
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from benchmarks.content_api import build_bench_channel, drive
        from benchmarks.report import record_result
        from kolibri_like.server import SERVER_THREADS
        from tests.servers import ServerProcess

        per_thread = int(getattr(settings, "CONTENT_DB_CONNECTIONS_PER_THREAD", 64))
        channels = [build_bench_channel(NODES_PER_CHANNEL, label=f"c{index}")
                    for index in range(channel_total)]
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        server = ServerProcess(home).start()
        assert server.process is not None
        pid = server.process.pid
        rss_start, fds_start, channel_fds_start = process_figures(pid)

        randomizer = random.Random(7)
        spread = []
        for _ in range(4_000):
            channel_id, topics, _leaves = randomizer.choice(channels)
            spread.append(f"/api/content/{channel_id}/contentnode/?parent="
                          f"{randomizer.choice(topics)}&page_size=30")
        first_id, first_topics, _ = channels[0]
        single = [f"/api/content/{first_id}/contentnode/?parent={topic}&page_size=30"
                  for topic in first_topics]

        warm = drive(server.port, spread, CONCURRENCY, 120.0, max_requests=warm_requests)
        made = warm["count"]
        rss_warm, fds_warm, channel_fds_warm = process_figures(pid)
        one = drive(server.port, single, CONCURRENCY, seconds)
        many = drive(server.port, spread, CONCURRENCY, seconds)
        made += one["count"] + many["count"]
        rest = drive(server.port, spread, CONCURRENCY, long_phase_seconds,
                     max_requests=max(0, request_budget - made))
        made += rest["count"]
        rss_end, fds_end, channel_fds_end = process_figures(pid)
        errors = warm["errors"] + one["errors"] + many["errors"] + rest["errors"]

        fd_bound = SERVER_THREADS * per_thread
        rss_verdict = ("not judged: fewer than 100,000 requests" if made < 100_000
                       else "met" if rss_end - rss_warm <= 100 else "NOT met")
        p99_ratio = many["p99"] / one["p99"] if one["p99"] else float("nan")
        lines = [
            f"{channel_total} channels of {NODES_PER_CHANNEL} nodes; children of a topic, "
            f"c={CONCURRENCY}, {seconds:g} s per p99 run; {made} requests in all "
            f"(budget {request_budget}, long phase capped at {long_phase_seconds:.0f} s), "
            f"{errors:.0f} errors",
            "",
            "| requests to | req/s | p50 ms | p99 ms |",
            "|---|---|---|---|",
            f"| one channel | {one['rps']:.0f} | {one['p50']:.1f} | {one['p99']:.1f} |",
            f"| random across {channel_total} | {many['rps']:.0f} | {many['p50']:.1f} | "
            f"{many['p99']:.1f} |",
            "",
            f"| server process | at start | after {warm_requests:,} requests | "
            "after all requests |",
            "|---|---|---|---|",
            f"| RSS MB | {rss_start:.0f} | {rss_warm:.0f} | {rss_end:.0f} |",
            f"| open descriptors | {fds_start} | {fds_warm} | {fds_end} |",
            f"| of which channel files | {channel_fds_start} | {channel_fds_warm} | "
            f"{channel_fds_end} |",
            "",
            f"p99 ratio random / one channel: {p99_ratio:.2f} (goal <= 2: "
            f"{'met' if p99_ratio <= 2 else 'NOT met'}); channel-file descriptors {channel_fds_end} "
            f"vs bound "
            f"{SERVER_THREADS} threads x {per_thread} = {fd_bound} channel files "
            f"({'within' if channel_fds_end <= fd_bound else 'NOT within'}); RSS growth "
            f"{rss_end - rss_warm:.0f} MB after {made} requests (goal <= 100 MB after 100,000: "
            f"{rss_verdict})",
        ]
        exit_code = server.process.poll()
        if exit_code is not None or errors:
            # The server's own account of what went wrong; its home is removed below.
            log_lines = server.output().splitlines()
            print("\n".join(log_lines[-40:]))
            last_line = log_lines[-1] if log_lines else ""
            lines.append(f"**{errors:.0f} failed requests; server "
                         f"{'still running' if exit_code is None else f'exited with {exit_code}'}"
                         f"** (figures after that are void; last log line: `{last_line}`)")
        print("\n".join(lines))
        record_result("many_channels", "Scenario 4: many channels", lines)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
