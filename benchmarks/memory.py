"""Scenario 8 of issue 7: memory (RSS) of the production server and of its task consumer.

    .venv/bin/python -m benchmarks.memory            # 3 rounds, 3 s of load per endpoint
    .venv/bin/python -m benchmarks.memory --quick    # 1 round, 1 s per endpoint, 1,500 nodes

1. Build the channel of scenario 2 (benchmarks.content_api.build_bench_channel, 5,000 nodes) in
   a throwaway KOLIBRI_LIKE_HOME.
2. Each round: start the production server with its consumer (`kolibri-like start`, as in
   production), let it settle, and read the idle RSS of the server and of the consumer process
   (/proc/<pid>/status VmRSS, median of samples over 2 s).
3. Drive scenario 2's load (its four endpoints, c=16, unique URLs, benchmarks.content_api.drive
   in its own process) while sampling the server's RSS every 0.2 s: the peak under load.
4. Baseline in the same run: the bare WSGI app of scenario 2 (benchmarks.baseline_app, same SQL,
   same server, same threads), idle and under the same load.
Goals: idle server <= 150 MB, consumer <= 150 MB, server under load <= 300 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from benchmarks.home import use_throwaway_home

SAMPLE_SECONDS = 0.2


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(value) for value in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    result, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            result.append(child)
            todo.append(child)
    return result


def find_consumer(server_pid: int, seconds: float = 30) -> int:
    """The `run_huey` process under the server (the console script may exec or wrap)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for pid in descendants(server_pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"run_huey" in command:
                return pid
        time.sleep(0.2)
    raise RuntimeError("no consumer process found under the server")


def idle_rss(pid: int, seconds: float = 2.0) -> float:
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(rss_mb(pid))
        time.sleep(SAMPLE_SECONDS)
    return statistics.median(samples)


def peak_under_load(pid: int, port: int, paths: dict[str, list[str]], seconds: float) -> float:
    from benchmarks.content_api import drive

    peak = rss_mb(pid)
    done = threading.Event()

    def load() -> None:
        try:
            for endpoint_paths in paths.values():
                drive(port, endpoint_paths, 16, seconds)
        finally:
            done.set()

    thread = threading.Thread(target=load)
    thread.start()
    deadline = time.monotonic() + len(paths) * (seconds + 150)
    while not done.is_set() and time.monotonic() < deadline:
        peak = max(peak, rss_mb(pid))
        time.sleep(SAMPLE_SECONDS)
    thread.join(10)
    return max(peak, rss_mb(pid))


def stats(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="load per endpoint")
    parser.add_argument("--nodes", type=int, default=None)
    arguments = parser.parse_args()
    rounds = arguments.rounds or (1 if arguments.quick else 3)
    seconds = arguments.seconds or (1.0 if arguments.quick else 3.0)
    arguments.nodes = arguments.nodes or (1_500 if arguments.quick else 5_000)

    home = use_throwaway_home()
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from benchmarks.content_api import build_bench_channel, request_paths, wait_for
        from benchmarks.report import record_result
        from routers.registry import channel_database_path
        from tests.servers import ServerProcess, free_port

        channel_id, topics, leaves = build_bench_channel(arguments.nodes)
        channel_file = channel_database_path(channel_id)
        default_db = str(settings.DATABASES["default"]["NAME"])
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        all_paths = request_paths(channel_id, topics, leaves, 4_000)
        server_paths = {name: pair[0] for name, pair in all_paths.items()}
        baseline_paths = {name: pair[1] for name, pair in all_paths.items()}

        figures: dict[str, list[float]] = {key: [] for key in (
            "server_idle", "consumer_idle", "server_load", "consumer_after", "base_idle",
            "base_load")}
        for _round in range(rounds):
            server = ServerProcess(home, consumer=True).start()
            try:
                assert server.process is not None
                consumer = find_consumer(server.process.pid)
                time.sleep(3)  # let start-up work (reaper, first heartbeats) settle
                figures["server_idle"].append(idle_rss(server.process.pid))
                figures["consumer_idle"].append(idle_rss(consumer))
                figures["server_load"].append(peak_under_load(
                    server.process.pid, server.port, server_paths, seconds))
                figures["consumer_after"].append(rss_mb(consumer))
            finally:
                server.stop()
            port = free_port()
            baseline = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.baseline_app", "--channel-db",
                 str(channel_file), "--default-db", default_db, "--port", str(port),
                 "--threads", "16"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for(f"http://127.0.0.1:{port}/channels")
                time.sleep(1)
                figures["base_idle"].append(idle_rss(baseline.pid))
                figures["base_load"].append(peak_under_load(baseline.pid, port, baseline_paths,
                                                            seconds))
            finally:
                baseline.terminate()
                baseline.wait(timeout=20)

        server_idle = statistics.median(figures["server_idle"])
        consumer_idle = statistics.median(figures["consumer_idle"])
        server_load = statistics.median(figures["server_load"])
        lines = [
            f"channel: {arguments.nodes} nodes; `kolibri-like start` with its consumer "
            f"(Huey, {settings.HUEY.get('consumer', {}).get('workers', '?')} worker threads); "
            f"{rounds} round(s), each a fresh start; load: scenario 2's four endpoints at c=16, "
            f"{seconds:g} s each (benchmarks.content_api.drive); RSS from /proc VmRSS, idle = "
            "median of samples over 2 s, load = peak of samples every 0.2 s. Baseline: "
            "benchmarks.baseline_app (same SQL, waitress, 16 threads). Figures are "
            "median | min | max, MB.",
            "",
            "| process | median | min | max |",
            "|---|---|---|---|",
            f"| server, idle | {stats(figures['server_idle'])} |",
            f"| server, peak under load | {stats(figures['server_load'])} |",
            f"| consumer (one worker process), idle | {stats(figures['consumer_idle'])} |",
            f"| consumer, after the server's load | {stats(figures['consumer_after'])} |",
            f"| baseline app, idle | {stats(figures['base_idle'])} |",
            f"| baseline app, peak under load | {stats(figures['base_load'])} |",
            "",
            f"Ratio server / baseline: idle {server_idle / statistics.median(figures['base_idle']):.1f}x, "
            f"under load {server_load / statistics.median(figures['base_load']):.1f}x.",
            "Goals: idle server <= 150 MB: "
            f"{'met' if server_idle <= 150 else 'NOT met'} ({server_idle:.0f}); consumer <= 150 MB: "
            f"{'met' if consumer_idle <= 150 else 'NOT met'} ({consumer_idle:.0f}); server under "
            f"load <= 300 MB: {'met' if server_load <= 300 else 'NOT met'} ({server_load:.0f}).",
        ]
        print("\n".join(lines))
        record_result("memory", "Scenario 8: memory", lines)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
