"""Range-request load for stored files, run as its own process (it must not share the server's
GIL): threads with one keep-alive connection each ask for `range_bytes` at random offsets of
one file until the time or the request budget runs out, each answer checked against the file.

Reads one JSON job on stdin, writes one JSON result on stdout (latencies in ms, errors, bytes):

    echo '{"port": 8000, "path": "/content/storage/a/b/ab...mp4", "file": "/home/.../ab...mp4",
           "concurrency": 16, "seconds": 5, "max_requests": 100000, "range_bytes": 1048576,
           "seed": 1}' | python -m benchmarks.range_client

A wrong status, a short body or bytes other than the file's at that offset count as errors.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import sys
import threading
import time

CHECKED_BYTES = 64  # both ends of every body are compared with the file


def run_range_load(port: int, path: str, file: str, concurrency: int, seconds: float,
                   max_requests: int, range_bytes: int, seed: int) -> dict[str, object]:
    descriptor = os.open(file, os.O_RDONLY)
    size = os.fstat(descriptor).st_size
    counter = itertools.count()  # next() on itertools.count is atomic under the GIL
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    received = [0] * concurrency
    first_error: list[str] = []

    def check(body: bytes, start: int) -> bool:
        if len(body) != range_bytes:
            return False
        head = os.pread(descriptor, CHECKED_BYTES, start)
        tail = os.pread(descriptor, CHECKED_BYTES, start + range_bytes - CHECKED_BYTES)
        return body[:CHECKED_BYTES] == head and body[-CHECKED_BYTES:] == tail

    def worker(index: int) -> None:
        chooser = random.Random(seed * 100_003 + index)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        own = latencies[index]
        while time.monotonic() < deadline and next(counter) < max_requests:
            start = chooser.randrange(0, size - range_bytes + 1)
            header = f"bytes={start}-{start + range_bytes - 1}"
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Range": header})
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 206 and check(body, start)
            except (OSError, http.client.HTTPException) as error:
                ok, body = False, b""
                if not first_error:
                    first_error.append(f"{error.__class__.__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            else:
                if not ok and not first_error:
                    first_error.append(f"status {response.status}, {len(body)} bytes")
            if ok:
                own.append((time.perf_counter() - started) * 1000)
                received[index] += len(body)
            else:
                errors[index] += 1
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    elapsed = time.monotonic() - started
    os.close(descriptor)
    return {"latencies_ms": [value for own in latencies for value in own],
            "errors": sum(errors), "bytes": sum(received), "elapsed": elapsed,
            "first_error": first_error[0] if first_error else ""}


def main() -> None:
    job = json.load(sys.stdin)
    result = run_range_load(int(job["port"]), str(job["path"]), str(job["file"]),
                            int(job["concurrency"]), float(job["seconds"]),
                            int(job["max_requests"]), int(job["range_bytes"]),
                            int(job.get("seed", 1)))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
