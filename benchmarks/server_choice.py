"""Which WSGI server runs the product: waitress (what `kolibri-like start` runs) against gunicorn.

    .venv/bin/python -m benchmarks.server_choice            # 3 rounds of 8 s per server
    .venv/bin/python -m benchmarks.server_choice --quick    # 2 rounds of 3 s

Issue 7 asks that the production server be chosen by measuring scenarios 2 and 3. This script
measures scenario 2's two heaviest endpoints (children of a topic, one node with its files) at
c=16 on the same channel and home, served by:

- waitress: `kolibri-like start --no-consumer` as in production (one process, 16 threads);
- gunicorn: `gunicorn -k gthread -w 2 --threads 8 kolibri_like.wsgi:application` (two processes,
  one per core of this machine, 16 threads in all), from the `bench` extra.

Rounds alternate between the servers so a noisy neighbour hurts both alike; the figures are
medians of the rounds with min and max of req/s. RSS is the sum over each server's processes
after the load. Scenario 3 (large files) is `benchmarks.file_serving`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.content_api import DISTINCT_PATHS, build_bench_channel, drive, request_paths, wait_for
from benchmarks.home import use_throwaway_home

ENDPOINTS = ("children of a topic", "one node with files")
CONCURRENCY = 16
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 8


def process_tree_rss_mb(pid: int) -> float:
    """RSS of a process and its children (a gunicorn master and its workers), from /proc."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    total_kib = 0
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


def start_gunicorn(environment: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", "kolibri_like.wsgi:application",
               "--worker-class", "gthread", "--workers", str(GUNICORN_WORKERS),
               "--threads", str(GUNICORN_THREADS), "--bind", f"127.0.0.1:{port}",
               "--backlog", "1024", "--log-level", "warning"]
    with open(log, "wb") as output:
        return subprocess.Popen(command, env={**environment,
                                              "DJANGO_SETTINGS_MODULE": "kolibri_like.settings"},
                                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 3 s")
    parser.add_argument("--nodes", type=int, default=5_000)
    arguments = parser.parse_args()
    rounds, seconds = (2, 3.0) if arguments.quick else (3, 8.0)
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        raise SystemExit("gunicorn is missing: install the bench extra "
                         "(.venv/bin/pip install -e '.[bench]', which make bench does)") from None

    home = use_throwaway_home()
    waitress = gunicorn_process = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from benchmarks.report import record_result
        from tests.servers import ServerProcess, free_port

        channel_id, topics, leaves = build_bench_channel(arguments.nodes)
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        waitress = ServerProcess(home).start()
        gunicorn_port = free_port()
        gunicorn_process = start_gunicorn(waitress.env, gunicorn_port, home / "gunicorn.log")
        wait_for(f"http://127.0.0.1:{gunicorn_port}/api/channels/")
        servers = {"waitress, 1 process x 16 threads": (waitress.port, waitress.process),
                   f"gunicorn gthread, {GUNICORN_WORKERS} processes x {GUNICORN_THREADS} "
                   "threads": (gunicorn_port, gunicorn_process)}

        paths = request_paths(channel_id, topics, leaves, DISTINCT_PATHS)
        figures: dict[tuple[str, str], list[dict[str, float]]] = {}
        for round_number in range(rounds):
            order = list(servers) if round_number % 2 == 0 else list(reversed(servers))
            for endpoint in ENDPOINTS:
                for name in order:
                    port, _process = servers[name]
                    result = drive(port, paths[endpoint][0], CONCURRENCY, seconds)
                    figures.setdefault((name, endpoint), []).append(result)
                    print(f"round {round_number + 1}: {name}, {endpoint}: "
                          f"{result['rps']:.0f} req/s, p99 {result['p99']:.1f} ms, "
                          f"{result['errors']:.0f} errors", flush=True)
        rss = {name: process_tree_rss_mb(process.pid) for name, (_port, process) in servers.items()
               if process is not None}

        lines = [f"channel: {arguments.nodes} nodes; c={CONCURRENCY}; {rounds} rounds of "
                 f"{seconds:.0f} s per server and endpoint, alternating; client: "
                 "benchmarks.load_client in its own process", "",
                 "| server | endpoint | req/s (median) | min | max | p99 ms (median) | errors |",
                 "|---|---|---|---|---|---|---|"]
        medians: dict[tuple[str, str], float] = {}
        for (name, endpoint), results in figures.items():
            rates = [result["rps"] for result in results]
            medians[(name, endpoint)] = statistics.median(rates)
            lines.append(
                f"| {name} | {endpoint} | {statistics.median(rates):.0f} | {min(rates):.0f} | "
                f"{max(rates):.0f} | {statistics.median(r['p99'] for r in results):.1f} | "
                f"{sum(r['errors'] for r in results):.0f} |")
        waitress_name, gunicorn_name = list(servers)
        lines += ["", "| server | RSS after the load, all processes (MB) |", "|---|---|"]
        lines += [f"| {name} | {megabytes:.0f} |" for name, megabytes in rss.items()]
        ratios = ", ".join(
            f"{endpoint}: {medians[(gunicorn_name, endpoint)] / medians[(waitress_name, endpoint)]:.2f}"
            for endpoint in ENDPOINTS)
        rss_ratio = rss[gunicorn_name] / rss[waitress_name]
        slowest = min(medians[(waitress_name, endpoint)] for endpoint in ENDPOINTS)
        lines += ["", f"req/s gunicorn / waitress: {ratios}; RSS gunicorn / waitress: "
                  f"{rss_ratio:.2f}", "",
                  "Choice: waitress stays the production server. Two gunicorn processes use both "
                  "cores (one Python process runs Python on one core at a time), so they answer "
                  f"more requests, at {rss_ratio:.1f}x the memory, which scenario 8 bounds at "
                  "150 MB; gunicorn also needs fork (no Windows) and would need separate "
                  "processes for the sandbox origin and the task consumer, which "
                  "`kolibri-like start` runs in one. Waitress's slowest endpoint here answered "
                  f"{slowest:.0f} req/s at c=16: more than a classroom's learners ask for "
                  "(browsing and answering, a request every few seconds each). Large files: "
                  "benchmarks.file_serving; for a whole school, nginx in front serves them "
                  "(deploy/nginx)."]
        print("\n".join(lines))
        record_result("server_choice", "Scenarios 2 and 8: choosing the production server", lines)
    finally:
        if gunicorn_process is not None and gunicorn_process.poll() is None:
            os.killpg(gunicorn_process.pid, signal.SIGTERM)
            gunicorn_process.wait(timeout=30)
        if waitress is not None:
            waitress.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
