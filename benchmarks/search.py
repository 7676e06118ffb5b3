"""Scenario 5 of issue 7: cross-channel search under load, against two baselines in the same run.

    .venv/bin/python -m benchmarks.search            # 100 channels x 5,000 nodes, 10 s of load
    .venv/bin/python -m benchmarks.search --quick    # 30 channels x 500 nodes, 1.5 s

1. In a throwaway KOLIBRI_LIKE_HOME, build the channels with the channel builder (titles and
   descriptions drawn from a fixed vocabulary of made-up words, fake file rows, no media
   bytes). Each install builds its search index, as a publish or an import does.
2. Start the production server (`kolibri-like start --no-consumer`) and drive
   `GET /api/search/?q=...&page_size=20` from `benchmarks.load_client` at c=4 with distinct
   queries (one word, two words, a 3-4 letter prefix, some with `kind=`), after a 4 s
   warm-up at c=16 with other queries (first connections, topic availability per channel).
3. Baselines, in this process, one query at a time, on the same index files:
   a. "per-channel FTS, direct": the service's SQL on every channel's index through sqlite3
      (connections kept open), merged with heapq: our design without HTTP, Django or cards;
   b. "one merged FTS index": every node of every channel in a single index, the same SQL
      once: the best possible, and what the design rules out (one file shared by channels).
4. Print and record p50/p95/p99 and req/s; the goal is p95 <= 100 ms at c=4.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode
from benchmarks.home import use_throwaway_home

CONCURRENCY = 4
WARM_UP_SECONDS = 4.0
PAGE_SIZE = 20
DISTINCT_QUERIES = 3000
BASELINE_QUERIES = 300
MAX_REQUESTS = 100_000
VOCABULARY_SIZE = 3000
KINDS = ("document", "video", "audio")
FAKE_FILES = {"document": ("document", "pdf"), "video": ("high_res_video", "mp4"),
              "audio": ("audio", "mp3")}


def make_vocabulary(rng: random.Random) -> list[str]:
    """Made-up words of 2-4 syllables, some with accents (folded by the index)."""
    consonants, vowels = "bcdfgklmnprstvz", "aeiouéà"
    words: set[str] = set()
    while len(words) < VOCABULARY_SIZE:
        words.add("".join(rng.choice(consonants) + rng.choice(vowels)
                          for _ in range(rng.randint(2, 4))))
    return sorted(words)


def build_search_channel(number: int, nodes: int, vocabulary: list[str],
                         rng: random.Random) -> str:
    """A channel of `nodes` nodes: topics of 30 leaves, 3-word titles, 8-word descriptions."""
    from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel

    def words(count: int) -> str:
        return " ".join(rng.choices(vocabulary, k=count))

    root = NodeSpec(title=f"Channel {number} {words(1)}")
    made = 1
    while made < nodes:
        topic = NodeSpec(title=words(2), description=words(6))
        made += 1
        for _ in range(min(30, nodes - made)):
            kind = rng.choice(KINDS)
            preset, extension = FAKE_FILES[kind]
            checksum = hashlib.md5(f"{number}-{made}".encode()).hexdigest()
            topic.children.append(NodeSpec(
                title=words(3).capitalize(), kind=kind, description=words(8),
                lang=rng.choice(("en", "fr", "sw")),
                files=[FileSpec(preset=preset, extension=extension, source=b"",
                                checksum=checksum, size=1000)]))
            made += 1
        root.children.append(topic)
    return build_channel(ChannelSpec(name=f"Search bench {number}", root=root)).channel_id


def make_queries(vocabulary: list[str], rng: random.Random, count: int) -> list[dict[str, str]]:
    """Distinct query parameter sets: words, pairs, prefixes, some filtered by kind."""
    queries: dict[str, dict[str, str]] = {}
    while len(queries) < count:
        shape = rng.random()
        if shape < 0.5:
            text = rng.choice(vocabulary)
        elif shape < 0.75:
            text = f"{rng.choice(vocabulary)} {rng.choice(vocabulary)}"
        else:
            text = rng.choice(vocabulary)[:rng.randint(3, 4)]
        params = {"q": text}
        if rng.random() < 0.2:
            params["kind"] = rng.choice(KINDS)
        queries[json.dumps(params, sort_keys=True)] = params
    return list(queries.values())


def percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]

    return {"p50": statistics.median(ordered), "p95": at(0.95), "p99": at(0.99)}


def drive(port: int, paths: list[str], concurrency: int, seconds: float) -> dict[str, float]:
    job = {"port": port, "paths": paths, "concurrency": concurrency, "seconds": seconds,
           "max_requests": MAX_REQUESTS}
    completed = subprocess.run([sys.executable, "-m", "benchmarks.load_client"],
                               input=json.dumps(job), capture_output=True, text=True,
                               timeout=seconds + 120, check=True)
    result = json.loads(completed.stdout)
    latencies = result["latencies_ms"]
    figures = percentiles(latencies) if latencies else {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    return {**figures, "rps": len(latencies) / result["elapsed"], "count": len(latencies),
            "errors": result["errors"]}


def direct_search(connections: list[sqlite3.Connection], params: dict[str, str]) -> int:
    """Baselines a and b: the service's query on each index, merged by the same key."""
    from content.search.query import IndexFilter, IndexQuery, query_terms

    index_query = IndexQuery.build(query_terms(params["q"]), IndexFilter(kind=params.get("kind")))
    merged = []
    total = 0
    for number, connection in enumerate(connections):
        count, keys = index_query.run(connection, str(number), PAGE_SIZE)
        total += count
        merged += keys
    heapq.nsmallest(PAGE_SIZE, merged)
    return total


def timed_queries(run, queries: list[dict[str, str]]) -> dict[str, float]:
    latencies = []
    started = time.perf_counter()
    for params in queries:
        begin = time.perf_counter()
        run(params)
        latencies.append((time.perf_counter() - begin) * 1000)
    elapsed = time.perf_counter() - started
    return {**percentiles(latencies), "rps": len(queries) / elapsed, "count": len(queries),
            "errors": 0}


def merged_index(index_paths: list[Path], target: Path) -> sqlite3.Connection:
    """Baseline b: every channel's rows in one index file (benchmark only)."""
    from content.search.index import CREATE_TABLE

    writer = sqlite3.connect(target)
    writer.execute("PRAGMA journal_mode=OFF")
    writer.execute(CREATE_TABLE)
    for path in index_paths:
        reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        writer.executemany("INSERT INTO node_search VALUES (?, ?, ?, ?, ?, ?)", reader.execute(
            "SELECT title, description, node_id, content_id, kind, lang FROM node_search"))
        reader.close()
    writer.execute("INSERT INTO node_search (node_search) VALUES ('optimize')")
    writer.commit()
    writer.close()
    return sqlite3.connect(f"file:{target}?mode=ro&immutable=1", uri=True)


def index_build_seconds(channel_ids: list[str]) -> list[float]:
    """Rebuild a few channels' indexes from their version files (as an install does)."""
    from channels.versions import version_database_path
    from content.search.index import build_search_index, search_index_path, served_version

    timings = []
    for channel_id in channel_ids:
        version = served_version(channel_id)
        assert version is not None
        search_index_path(channel_id, version).unlink()
        started = time.perf_counter()
        build_search_index(channel_id, version, version_database_path(channel_id, version))
        timings.append(time.perf_counter() - started)
    return timings


def row(name: str, figures: dict[str, float]) -> str:
    return (f"| {name} | {figures['rps']:.0f} | {figures['p50']:.1f} | {figures['p95']:.1f} | "
            f"{figures['p99']:.1f} | {figures['errors']:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="30 channels of 500 nodes, 1.5 s")
    parser.add_argument("--channels", type=int, default=None)
    parser.add_argument("--nodes", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    arguments = parser.parse_args()
    channel_count = arguments.channels or (30 if arguments.quick else 100)
    nodes = arguments.nodes or (500 if arguments.quick else 5_000)
    seconds = arguments.seconds or (1.5 if arguments.quick else 10.0)

    home = use_throwaway_home("kolibri-like-bench-search-")
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from benchmarks.content_api import wait_for
        from benchmarks.report import record_result
        from content.search.index import search_index_path, search_root, served_version
        from tests.servers import ServerProcess

        rng = random.Random(5)
        vocabulary = make_vocabulary(rng)
        started = time.perf_counter()
        channel_ids = [build_search_channel(number, nodes, vocabulary, rng)
                       for number in range(channel_count)]
        build_seconds = time.perf_counter() - started
        print(f"built {channel_count} channels of {nodes} nodes in {build_seconds:.0f} s",
              flush=True)
        rebuilds = index_build_seconds(channel_ids[:5])
        index_paths = [search_index_path(channel_id, served_version(channel_id) or 0)
                       for channel_id in channel_ids]
        index_bytes = sum(path.stat().st_size for path in search_root().rglob("*.sqlite3"))

        queries = make_queries(vocabulary, rng, DISTINCT_QUERIES)
        paths = ["/api/search/?" + urlencode({**params, "page_size": PAGE_SIZE})
                 for params in queries]

        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        server = ServerProcess(home).start()
        wait_for(server.url + paths[0])
        # Warm-up, not recorded: each of the server's 16 threads opens its connection to every
        # index, and each channel's topic availability is computed once per process.
        drive(server.port, paths[-400:], 16, WARM_UP_SECONDS)
        ours = drive(server.port, paths, CONCURRENCY, seconds)
        server.stop()
        server = None

        connections = [sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
                       for path in index_paths]
        sample = queries[:BASELINE_QUERIES]
        direct = timed_queries(lambda params: direct_search(connections, params), sample)
        merged = merged_index(index_paths, home / "merged.sqlite3")
        best = timed_queries(lambda params: direct_search([merged], params), sample)

        lines = [
            f"{channel_count} channels x {nodes} nodes (built in {build_seconds:.0f} s), "
            f"index files {index_bytes / 1e6:.0f} MB in all; index build per channel from its "
            f"version file: median {statistics.median(rebuilds) * 1000:.0f} ms "
            f"(min {min(rebuilds) * 1000:.0f}, max {max(rebuilds) * 1000:.0f}).",
            f"Server: `kolibri-like start --no-consumer`, `GET /api/search/?q=..&page_size="
            f"{PAGE_SIZE}`, c={CONCURRENCY}, {seconds:g} s, {len(paths)} distinct queries "
            "(1 word 50%, 2 words 25%, a 3-4 letter prefix 25%; 20% with `kind=`), "
            "client benchmarks.load_client in its own process. Baselines: one query at a time "
            f"in one process, {len(sample)} of the same queries.",
            "",
            "| what | req/s | p50 ms | p95 ms | p99 ms | errors |",
            "|---|---|---|---|---|---|",
            row(f"server, c={CONCURRENCY}", ours),
            row("baseline a: per-channel FTS, direct sqlite3", direct),
            row("baseline b: one merged FTS index", best),
            "",
            f"Server / baseline a: req/s {ours['rps'] / direct['rps']:.2f}, p95 "
            f"{ours['p95'] / direct['p95']:.1f}x; server / baseline b: req/s "
            f"{ours['rps'] / best['rps']:.2f}, p95 {ours['p95'] / best['p95']:.1f}x.",
            "Where a request's time goes (profiled in one process, warm, 30-100 channels of "
            "1,000 nodes): about 50 us per channel index for its ranked query (5 ms for 100), "
            "1.5 ms for the page's cards (one query per channel on the page, one for device "
            "state), and Django/DRF around them; the server is one process of threads, so "
            "that Python work runs one request at a time (the GIL): at c=4 a request mostly "
            "waits for the three others.",
            f"Goal p95 <= 100 ms at c={CONCURRENCY}: "
            f"{'met' if ours['p95'] <= 100 else 'NOT met'} ({ours['p95']:.0f} ms"
            f"{'; quick run, smaller than the goal' if arguments.quick else ''}).",
        ]
        print("\n".join(lines))
        record_result("search", "Scenario 5: cross-channel search", lines)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
