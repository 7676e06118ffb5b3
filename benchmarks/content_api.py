"""Scenario 2 of issue 7: the content API under load, against a bare WSGI baseline in the same run.

    .venv/bin/python -m benchmarks.content_api            # 10 s per endpoint and concurrency
    .venv/bin/python -m benchmarks.content_api --quick    # c=16 only, 1 s each, 1,500 nodes

1. Build one channel of about 5,000 nodes (topics of 30 children, one fake file per leaf, no
   media bytes) in a throwaway KOLIBRI_LIKE_HOME.
2. Start the production server (`kolibri-like start`, no consumer) on 127.0.0.1, and the baseline
   (`benchmarks.baseline_app`: the same SQL with sqlite3 and json.dumps, waitress, same threads).
3. For each endpoint (children of a topic, one node with files, search, channel list) and each
   concurrency (1, 16), drive both from a separate client process (`benchmarks.load_client`)
   with unique URLs, for a bounded time and count.
4. Print and record req/s, p50, p99 and the ratio to the baseline; judge the issue's goal
   (children at c=16: >= 1,000 req/s, p99 <= 50 ms, >= 30% of the baseline).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from benchmarks.home import use_throwaway_home

CONCURRENCIES = (1, 16)
CHILDREN_PER_TOPIC = 30
MAX_REQUESTS = 200_000
DISTINCT_PATHS = 4_000


def build_bench_channel(nodes: int, label: str = "bench") -> tuple[str, list[str], list[str]]:
    """Build a channel in the current home; return (channel id, topic ids, leaf ids)."""
    from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel

    root = NodeSpec(title=f"{label} root")
    made = 1
    while made < nodes:
        topic = NodeSpec(title=f"{label} topic {made}", description="a topic")
        made += 1
        for _ in range(min(CHILDREN_PER_TOPIC, nodes - made)):
            checksum = hashlib.md5(f"{label}-{made}".encode()).hexdigest()
            topic.children.append(NodeSpec(
                title=f"{label} item {made}", kind="document", description=f"document {made}",
                files=[FileSpec(preset="document", extension="pdf", source=b"",
                                checksum=checksum, size=1000)]))
            made += 1
        root.children.append(topic)
    result = build_channel(ChannelSpec(name=f"Bench {label}", root=root))
    topics = [topic.id or "" for topic in root.children if topic.children]
    leaves = [child.id or "" for topic in root.children for child in topic.children]
    return result.channel_id, topics, leaves


def request_paths(channel_id: str, topics: list[str], leaves: list[str],
                  count: int) -> dict[str, tuple[list[str], list[str]]]:
    """endpoint -> (server paths, baseline paths); the client appends a unique `n=` to each."""
    api = f"/api/content/{channel_id}/contentnode/"
    paths: dict[str, tuple[list[str], list[str]]] = {}
    paths["children of a topic"] = (
        [f"{api}?parent={topics[n % len(topics)]}&page_size=30" for n in range(count)],
        [f"/children?parent={topics[n % len(topics)]}" for n in range(count)])
    paths["one node with files"] = (
        [f"{api}{leaves[n % len(leaves)]}/" for n in range(count)],
        [f"/node?id={leaves[n % len(leaves)]}" for n in range(count)])
    # "item 1234" matches that item and its prefixes' extensions: a handful of rows per search.
    paths["search one channel"] = (
        [f"{api}?search=item+{1000 + n % 4000}&page_size=30" for n in range(count)],
        [f"/search?q=item+{1000 + n % 4000}" for n in range(count)])
    paths["list channels"] = (["/api/channels/"],
                              ["/channels"])
    return paths


def drive(port: int, paths: list[str], concurrency: int, seconds: float,
          max_requests: int = MAX_REQUESTS) -> dict[str, float]:
    """Run the load client in its own process; return req/s, p50, p99 (ms), count and errors."""
    job = {"port": port, "paths": paths, "concurrency": concurrency, "seconds": seconds,
           "max_requests": max_requests}
    completed = subprocess.run([sys.executable, "-m", "benchmarks.load_client"],
                               input=json.dumps(job), capture_output=True, text=True,
                               timeout=seconds + 120, check=True)
    result = json.loads(completed.stdout)
    latencies = sorted(result["latencies_ms"])
    if not latencies:
        return {"rps": 0.0, "p50": float("nan"), "p99": float("nan"), "count": 0,
                "errors": result["errors"]}
    return {"rps": len(latencies) / result["elapsed"],
            "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "count": len(latencies), "errors": result["errors"]}


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="c=16 only, 1 s per run, 1,500 nodes instead of 5,000")
    parser.add_argument("--nodes", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    arguments = parser.parse_args()
    seconds = arguments.seconds or (1.0 if arguments.quick else 10.0)
    arguments.nodes = arguments.nodes or (1_500 if arguments.quick else 5_000)

    home = use_throwaway_home()
    server = baseline = None
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from benchmarks.report import record_result
        from routers.registry import channel_database_path
        from tests.servers import ServerProcess, free_port

        channel_id, topics, leaves = build_bench_channel(arguments.nodes)
        channel_file = channel_database_path(channel_id)
        default_db = str(settings.DATABASES["default"]["NAME"])
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        server = ServerProcess(home).start()
        baseline_port = free_port()
        baseline = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.baseline_app", "--channel-db", str(channel_file),
             "--default-db", default_db, "--port", str(baseline_port), "--threads", "16"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(f"http://127.0.0.1:{baseline_port}/channels")

        paths = request_paths(channel_id, topics, leaves, DISTINCT_PATHS)
        lines = [f"channel: {arguments.nodes} nodes ({len(topics)} topics of "
                 f"{CHILDREN_PER_TOPIC}), {seconds:g} s per run, one run each, client: "
                 "benchmarks.load_client (Python threads, keep-alive) in its own process",
                 "",
                 "| endpoint | c | server req/s | p50 ms | p99 ms | errors | baseline req/s | "
                 "p50 ms | p99 ms | req/s ratio |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        goal_figures = None
        for endpoint, (server_paths, baseline_paths) in paths.items():
            for concurrency in (16,) if arguments.quick else CONCURRENCIES:
                ours = drive(server.port, server_paths, concurrency, seconds)
                base = drive(baseline_port, baseline_paths, concurrency, seconds)
                ratio = ours["rps"] / base["rps"] if base["rps"] else float("nan")
                lines.append(
                    f"| {endpoint} | {concurrency} | {ours['rps']:.0f} | {ours['p50']:.1f} | "
                    f"{ours['p99']:.1f} | {ours['errors']:.0f} | {base['rps']:.0f} | "
                    f"{base['p50']:.1f} | {base['p99']:.1f} | {ratio:.2f} |")
                print(lines[-1], flush=True)
                if endpoint == "children of a topic" and concurrency == 16:
                    goal_figures = (ours, ratio)
        assert goal_figures is not None
        ours, ratio = goal_figures
        checks = [("req/s >= 1,000", ours["rps"] >= 1000), ("p99 <= 50 ms", ours["p99"] <= 50),
                  (">= 30% of baseline", ratio >= 0.30)]
        lines += ["", "Goal, children at c=16: " + "; ".join(
            f"{name}: {'met' if passed else 'NOT met'}" for name, passed in checks)]
        print("\n".join(lines))
        record_result("content_api", "Scenario 2: content API under load", lines)
    finally:
        if baseline is not None:
            baseline.terminate()
            baseline.wait(timeout=20)
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
