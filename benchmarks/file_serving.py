"""Scenario 3: serving a 100 MB video by 1 MiB Range requests, against nginx in the same run.

    .venv/bin/python -m benchmarks.file_serving            # 3 rounds of 8 s per server and c
    .venv/bin/python -m benchmarks.file_serving --quick    # 1 round of 3 s, a 30 MB video

1. In a throwaway home, a video of random bytes is built into a channel (stored by its MD5, as
   an import stores it).
2. The production server (`kolibri-like start`, no consumer) serves it on 127.0.0.1; Debian's
   nginx serves the same storage folder with the shipped deployment config
   (deploy/nginx/kolibri-like.conf: sendfile, the server's headers), in front of that server.
3. For 16 and 200 concurrent clients, rounds alternate between the two: keep-alive clients in
   two separate processes (benchmarks/range_client.py) ask for 1 MiB at random offsets, each
   answer checked against the file, bounded in time and count.
4. Print and record MiB/s, req/s, p50/p99 and errors (median of the rounds with min and max), the
   ratio server / nginx; goal >= 50% of nginx's throughput and 0 errors at 200 clients.

gunicorn is measured too when it is importable (the `bench` extra; `--no-gunicorn` to skip),
as benchmarks.server_choice runs it (gthread, 2 processes of 8 threads; it sends file bodies
with sendfile): the file-serving half of the measurement behind the production server's choice.
Where the server's CPU goes: one more run at c=16 with 1 KiB ranges gives its cost per request
apart from the bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.home import use_throwaway_home

CONCURRENCIES = (16, 200)
RANGE_BYTES = 1024 * 1024
CLIENT_PROCESSES = 2
MAX_REQUESTS_PER_RUN = 100_000
WRITE_CHUNK = 4 * 1024 * 1024
GUNICORN_ROW = "gunicorn gthread 2x8 (not used)"
SMALL_RANGE_BYTES = 1024


def build_video_channel(size_bytes: int) -> tuple[str, Path]:
    """A channel with one video of `size_bytes` random bytes; returns its URL and stored path."""
    from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel
    from django.conf import settings
    from storage.paths import storage_path, storage_url

    source = Path(settings.CONTENT_TEMP_DIR) / "bench-video.mp4"
    digest = hashlib.md5()
    with open(source, "wb") as handle:
        written = 0
        while written < size_bytes:
            chunk = os.urandom(min(WRITE_CHUNK, size_bytes - written))
            handle.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    video = NodeSpec(title="A long lesson", kind="video", files=[
        FileSpec(preset="high_res_video", extension="mp4", source=source)])
    build_channel(ChannelSpec(name="Bench video", root=NodeSpec(title="Videos",
                                                                children=[video])))
    source.unlink()
    checksum = digest.hexdigest()
    return storage_url(checksum, "mp4"), storage_path(checksum, "mp4")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its live children: nginx's workers."""
    total = 0.0
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        pids += [int(child) for child in children]
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def drive(port: int, pid: int, url_path: str, stored: Path, concurrency: int, seconds: float,
          seed: int, range_bytes: int = RANGE_BYTES) -> dict[str, float]:
    """Run the range clients (own processes) against one server; merged figures, and the
    server's CPU time per MiB sent (the figure least moved by others' load on this machine)."""
    cpu_before = cpu_seconds(pid)
    processes = min(CLIENT_PROCESSES, concurrency)
    clients = []
    for index in range(processes):
        share = concurrency // processes + (1 if index < concurrency % processes else 0)
        job = {"port": port, "path": url_path, "file": str(stored), "concurrency": share,
               "seconds": seconds, "max_requests": MAX_REQUESTS_PER_RUN // processes,
               "range_bytes": range_bytes, "seed": seed * 10 + index}
        client = subprocess.Popen([sys.executable, "-m", "benchmarks.range_client"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert client.stdin is not None
        client.stdin.write(json.dumps(job))
        client.stdin.close()
        clients.append(client)
    results = []
    for client in clients:
        assert client.stdout is not None
        output = client.stdout.read()
        client.wait(timeout=seconds + 180)
        results.append(json.loads(output))
    cpu = cpu_seconds(pid) - cpu_before
    latencies = sorted(value for result in results for value in result["latencies_ms"])
    elapsed = max(result["elapsed"] for result in results)
    received = sum(result["bytes"] for result in results)
    errors = sum(result["errors"] for result in results)
    first_error = next((result["first_error"] for result in results if result["first_error"]),
                       "")
    if errors:
        print(f"  {errors} errors, first: {first_error}", flush=True)
    return {
        "mibs": received / elapsed / RANGE_BYTES,
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        if latencies else float("nan"),
        "errors": errors,
        "cpu_ms_per_request": cpu * 1000 / len(latencies) if latencies else float("nan"),
        "cpu_ms_per_mib": cpu * 1000 / (received / RANGE_BYTES) if received else float("nan"),
    }


def start_gunicorn(env: dict[str, str], home: Path) -> tuple[subprocess.Popen[bytes], int]:
    from benchmarks.content_api import wait_for
    from benchmarks.server_choice import GUNICORN_THREADS, GUNICORN_WORKERS
    from tests.servers import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
         "--workers", str(GUNICORN_WORKERS), "--threads", str(GUNICORN_THREADS),
         "--worker-connections", "1000", "--bind", f"127.0.0.1:{port}",
         "kolibri_like.wsgi:application"], env=env, stdout=subprocess.DEVNULL,
        stderr=open(home / "gunicorn.log", "wb"), start_new_session=True)
    wait_for(f"http://127.0.0.1:{port}/api/channels/", seconds=60)
    return process, port


def spread(values: list[float], digits: int = 0) -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.{digits}f}"
    return f"{median:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one round of 3 s per server and concurrency, a 30 MB video")
    parser.add_argument("--size-mb", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--no-gunicorn", action="store_true",
                        help="do not measure gunicorn even if it is importable")
    arguments = parser.parse_args()
    size_mb = arguments.size_mb or (30 if arguments.quick else 100)
    seconds = arguments.seconds or (3.0 if arguments.quick else 8.0)
    rounds = arguments.rounds or (1 if arguments.quick else 3)

    home = use_throwaway_home()
    server = nginx = gunicorn = None
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from benchmarks.report import record_result
        from tests.nginx import INSTALL_HINT, NginxProcess, nginx_binary
        from tests.servers import ServerProcess

        if nginx_binary() is None:
            sys.exit(f"No baseline: {INSTALL_HINT}")
        url_path, stored = build_video_channel(size_mb * 1024 * 1024)
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        server = ServerProcess(home).start()
        nginx = NginxProcess(home / "nginx", upstream_port=server.port,
                             storage_dir=Path(settings.CONTENT_STORAGE_DIR)).start()
        stored.read_bytes()  # in the page cache for both, as a video many learners watch
        if not arguments.no_gunicorn and importlib.util.find_spec("gunicorn") is not None:
            gunicorn, gunicorn_port = start_gunicorn(server.env, home)

        figures: dict[tuple[str, int], list[dict[str, float]]] = {}
        assert nginx.process is not None and server.process is not None
        targets = {"nginx (sendfile)": (nginx.port, nginx.process.pid),
                   "kolibri-like start": (server.port, server.process.pid)}
        if gunicorn is not None:
            targets[GUNICORN_ROW] = (gunicorn_port, gunicorn.pid)
        for concurrency in CONCURRENCIES:
            for round_number in range(rounds):
                order = list(targets.items())
                if round_number % 2:
                    order.reverse()
                for name, (port, pid) in order:
                    result = drive(port, pid, url_path, stored, concurrency, seconds,
                                   seed=round_number + 1)
                    figures.setdefault((name, concurrency), []).append(result)
                    print(f"c={concurrency} round {round_number + 1} {name}: "
                          f"{result['mibs']:.0f} MiB/s, {result['errors']:.0f} errors",
                          flush=True)
        small = drive(server.port, server.process.pid, url_path, stored, 16, seconds, seed=99,
                      range_bytes=SMALL_RANGE_BYTES)

        lines = [f"video: {size_mb} MiB of random bytes stored as a channel's mp4; 1 MiB "
                 f"Range requests at random offsets; {rounds} round(s) of {seconds:.0f} s per "
                 f"server and concurrency, alternating; client: benchmarks.range_client "
                 f"({CLIENT_PROCESSES} processes of keep-alive threads, every body checked "
                 f"against the file); nginx: deploy/nginx/kolibri-like.conf, 2 workers.",
                 "",
                 "| c | server | MiB/s | req/s | p50 ms | p99 ms | errors | CPU ms per MiB |",
                 "|---|---|---|---|---|---|---|---|"]
        ratios: dict[int, float] = {}
        for concurrency in CONCURRENCIES:
            for name in targets:
                runs = figures[(name, concurrency)]
                lines.append(
                    f"| {concurrency} | {name} | {spread([run['mibs'] for run in runs])} | "
                    f"{spread([run['rps'] for run in runs])} | "
                    f"{spread([run['p50'] for run in runs], 1)} | "
                    f"{spread([run['p99'] for run in runs], 1)} | "
                    f"{sum(run['errors'] for run in runs):.0f} | "
                    f"{spread([run['cpu_ms_per_mib'] for run in runs], 2)} |")
            ours = statistics.median(run["mibs"] for run in figures[("kolibri-like start",
                                                                     concurrency)])
            theirs = statistics.median(run["mibs"] for run in figures[("nginx (sendfile)",
                                                                       concurrency)])
            ratios[concurrency] = ours / theirs if theirs else float("nan")
        errors_at_200 = sum(run["errors"] for run in figures[("kolibri-like start", 200)])
        lines += ["", "Throughput ratio server / nginx: " + ", ".join(
            f"c={concurrency}: {ratio:.2f}" for concurrency, ratio in ratios.items()),
            f"Goal >= 50% of nginx's throughput: "
            f"{'met' if min(ratios.values()) >= 0.5 else 'NOT met'} "
            f"(lowest {min(ratios.values()):.2f}); 0 errors at 200 clients: "
            f"{'met' if errors_at_200 == 0 else f'NOT met ({errors_at_200} errors)'}"]
        ours_runs = figures[("kolibri-like start", 16)]
        per_mib = statistics.median(run["cpu_ms_per_mib"] for run in ours_runs)
        fixed = small["cpu_ms_per_request"]
        nginx_per_mib = statistics.median(run["cpu_ms_per_mib"]
                                          for run in figures[("nginx (sendfile)", 16)])
        lines += ["", f"Where the server's CPU goes (c=16): {per_mib:.2f} ms per 1 MiB range "
                  f"in all; a 1 KiB range costs {fixed:.2f} ms (Django's request and "
                  f"middleware, opening the file, headers), so about {per_mib - fixed:.2f} ms "
                  f"is moving the MiB: waitress's one I/O thread reads each block into Python "
                  f"and writes it to the socket, a send buffer's worth at a time, where "
                  f"nginx's sendfile has the kernel copy it ({nginx_per_mib:.2f} ms per MiB "
                  f"in all)."]
        if gunicorn is not None:
            def median_mibs(name: str, concurrency: int) -> float:
                return statistics.median(run["mibs"] for run in figures[(name, concurrency)])

            def against(other: str) -> str:
                return ", ".join(
                    f"c={c}: {median_mibs(GUNICORN_ROW, c) / median_mibs(other, c):.2f}"
                    for c in CONCURRENCIES)

            lines.append(f"MiB/s gunicorn / waitress: {against('kolibri-like start')}; "
                         f"gunicorn / nginx: {against('nginx (sendfile)')}.")
        lines.append(
            "The production server stays waitress (benchmarks.server_choice: one process, the "
            "memory bound of scenario 8, Windows, the sandbox origin and the consumer beside "
            "it); where many learners watch video at once, nginx in front "
            "(deploy/nginx/kolibri-like.conf, the nginx row above) serves the files.")
        print("\n".join(lines))
        record_result("file_serving", "Scenario 3: serving content files", lines)
    finally:
        if gunicorn is not None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
        if nginx is not None:
            nginx.stop()
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
