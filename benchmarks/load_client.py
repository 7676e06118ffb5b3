"""A small HTTP load generator, run as its own process so it does not share the server's GIL.

Threads with one keep-alive `http.client` connection each take the next path from a list (the
request number is appended as `n=`, so every URL is unique and no cache can answer) until the
time or the request budget runs out. Reads one JSON job on stdin and writes one JSON result on
stdout: latencies in milliseconds, error count.

    echo '{"port": 8000, "paths": ["/api/channels/"], "concurrency": 16,
           "seconds": 3, "max_requests": 100000}' | python -m benchmarks.load_client
"""

from __future__ import annotations

import http.client
import itertools
import json
import sys
import threading
import time


def run_load(port: int, paths: list[str], concurrency: int, seconds: float,
             max_requests: int) -> dict[str, object]:
    counter = itertools.count()  # next() on itertools.count is atomic under the GIL
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        own = latencies[index]
        while time.monotonic() < deadline:
            number = next(counter)
            if number >= max_requests:
                break
            base = paths[number % len(paths)]
            # The request number makes every URL unique, so no cache can answer.
            path = f"{base}{'&' if '?' in base else '?'}n={number}"
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[index] += 1
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            own.append((time.perf_counter() - started) * 1000)
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    elapsed = time.monotonic() - started
    merged = [value for own in latencies for value in own]
    return {"latencies_ms": merged, "errors": sum(errors), "elapsed": elapsed}


def main() -> None:
    job = json.load(sys.stdin)
    result = run_load(int(job["port"]), list(job["paths"]), int(job["concurrency"]),
                      float(job["seconds"]), int(job["max_requests"]))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
