"""The cost of per-request routing: the routed content API against a statically configured alias.

    .venv/bin/python -m benchmarks.routing_cost            # 6 rounds of 400 requests per side
    .venv/bin/python -m benchmarks.routing_cost --quick    # 3 rounds of 100, 1,500 nodes

Issue 7, scenario 2 asks that the routed endpoint stay within 10% of the same endpoint on a
statically configured database alias. Both sides run in this process, on the same channel file,
through Django's own WSGI handler (no HTTP server, no client: what differs is only the routing):

- routed: the project's middleware stack as configured (`ContentDBRoutingMiddleware` checks the
  id, asks the servable gate, stats the file and activates this thread's connection);
- static: the same stack with that middleware swapped for `StaticAliasMiddleware`, which makes
  one alias, registered once at start-up as a settings entry would be, active for every request.

Rounds alternate between the sides so that a noisy neighbour hurts both alike; the figures are
medians of the per-round mean request times, with min and max. On a shared machine the times
move by more than the difference being measured, so a count of Python function calls per
request on each side (cProfile, 100 requests) is reported beside them.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import sys
import time
from io import BytesIO
from typing import Any, Callable

from benchmarks.home import use_throwaway_home

ROUTING_MIDDLEWARE = "routers.middleware.ContentDBRoutingMiddleware"
# Active aliases must look like channel ids; this one names no channel, only the static entry.
STATIC_ALIAS = "5" * 32


class StaticAliasMiddleware:
    """What a statically configured channel alias would cost: no checks, one fixed alias."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        from routers.context import reset_active_content_database, set_active_content_database

        token = set_active_content_database(STATIC_ALIAS)
        try:
            return self.get_response(request)
        finally:
            reset_active_content_database(token)


def wsgi_get(handler: Callable[..., Any], path: str, query: str) -> int:
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(b""), "wsgi.errors": sys.stderr, "HTTP_HOST": "127.0.0.1",
    }
    body = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    return int(statuses[0].split()[0])


def mean_request_seconds(handler: Callable[..., Any], path: str, parents: list[str],
                         count: int, offset: int) -> float:
    started = time.perf_counter()
    for number in range(count):
        parent = parents[(offset + number) % len(parents)]
        status = wsgi_get(handler, path, f"parent={parent}&page_size=30&n={offset + number}")
        if status != 200:
            raise SystemExit(f"{path} answered {status}: the benchmark channel is not servable")
    return (time.perf_counter() - started) / count


def calls_per_request(handler: Callable[..., Any], path: str, parents: list[str]) -> float:
    """Python function calls per request: a count, so the machine's noise does not move it."""
    profile = cProfile.Profile()
    profile.runcall(mean_request_seconds, handler, path, parents, 100, 0)
    return float(pstats.Stats(profile).total_calls) / 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument("--nodes", type=int, default=None)
    arguments = parser.parse_args()
    rounds, count = (3, 100) if arguments.quick else (6, 400)
    arguments.nodes = arguments.nodes or (1_500 if arguments.quick else 5_000)

    home = use_throwaway_home()
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.management import call_command

        from benchmarks.content_api import build_bench_channel
        from benchmarks.report import record_result
        from routers.registry import (
            channel_database_path,
            read_only_database_settings,
            register_alias,
        )

        call_command("migrate", verbosity=0)
        channel_id, topics, _ = build_bench_channel(arguments.nodes, label="routing")
        settings.ALLOWED_HOSTS = ["127.0.0.1"]
        register_alias(STATIC_ALIAS, read_only_database_settings(channel_database_path(channel_id)))

        routed = WSGIHandler()
        static_middleware = [f"{__name__}.StaticAliasMiddleware" if name == ROUTING_MIDDLEWARE
                             else name for name in settings.MIDDLEWARE]
        if static_middleware == list(settings.MIDDLEWARE):
            raise SystemExit(f"{ROUTING_MIDDLEWARE} is not in MIDDLEWARE: nothing to compare")
        settings.MIDDLEWARE = static_middleware
        static = WSGIHandler()

        path = f"/api/content/{channel_id}/contentnode/"
        for handler in (routed, static):  # warm both: connections, caches, imports
            mean_request_seconds(handler, path, topics, 50, 0)
        routed_times, static_times = [], []
        for round_number in range(rounds):
            offset = round_number * count
            pair = [(routed, routed_times), (static, static_times)]
            for handler, times in pair if round_number % 2 == 0 else reversed(pair):
                times.append(mean_request_seconds(handler, path, topics, count, offset))
        routed_calls, static_calls = (calls_per_request(handler, path, topics)
                                      for handler in (routed, static))
    finally:
        shutil.rmtree(home, ignore_errors=True)

    routed_ms, static_ms = (statistics.median(times) * 1000 for times in (routed_times, static_times))
    overhead = routed_ms / static_ms - 1
    lines = [
        f"channel: {arguments.nodes} nodes; children of a topic (30 per page); {rounds} rounds "
        f"of {count} requests per side, alternating; in-process WSGI handler, one thread",
        "| routing | median ms/request | min | max |",
        "|---|---|---|---|",
        f"| per request (ContentDBRoutingMiddleware) | {routed_ms:.3f} | "
        f"{min(routed_times) * 1000:.3f} | {max(routed_times) * 1000:.3f} |",
        f"| static alias (StaticAliasMiddleware) | {static_ms:.3f} | "
        f"{min(static_times) * 1000:.3f} | {max(static_times) * 1000:.3f} |",
        "",
        f"Python function calls per request (a count, free of the machine's noise): routed "
        f"{routed_calls:.0f}, static {static_calls:.0f} ({routed_calls / static_calls - 1:+.1%})",
        f"cost of routing: {overhead * 100:+.1f}% of the static alias's time per request; goal "
        f"within 10%: {'met' if overhead <= 0.10 else 'NOT met'}",
    ]
    print("\n".join(lines))
    record_result("routing_cost", "Scenario 2: the cost of per-request routing", lines)


if __name__ == "__main__":
    main()
