"""A stand-in for a peer server on 127.0.0.1 whose downloads can be held half way.

It answers the three paths an import uses (`/api/channels/<id>/`, `/api/channels/`,
`/content/storage/...`, Range requests included) from a folder of stored files. The file named
`hold` sends half its bytes, then the rest a byte every few seconds until `release` is set
(bounded), so a test can interrupt a real import process at a known point, however slowly the
machine runs.

    with StubPeer(channel, storage_dir, hold="ab/..") as peer:
        peer.held.wait(30); process.send_signal(SIGINT); peer.release.set()
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOLD_SECONDS = 30
TRICKLE_SECONDS = 5
RANGE = re.compile(r"bytes=(\d+)-")


class StubPeer:
    def __init__(self, channel: dict[str, Any], storage_dir: Path, hold: str | None) -> None:
        self.channel, self.storage_dir, self.hold = channel, storage_dir, hold
        self.held, self.release = threading.Event(), threading.Event()
        self.requests: list[tuple[str, str | None, int]] = []  # path, Range header, status
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                stub.answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path, range_header = handler.path, handler.headers.get("Range")
        if path in (f"/api/channels/{self.channel['id']}/", "/api/channels/?page_size=1000"):
            listing = self.channel if path.count("/") == 4 else {
                "count": 1, "next": None, "previous": None, "results": [self.channel]}
            self._send(handler, path, range_header, 200, json.dumps(listing).encode())
            return
        relpath = path.removeprefix("/content/storage/")
        file_path = self.storage_dir / relpath
        if relpath == path or ".." in relpath or not file_path.is_file():
            self._send(handler, path, range_header, 404, b'{"detail": "not found"}')
            return
        data = file_path.read_bytes()
        match = RANGE.fullmatch(range_header or "")
        if match:
            start = int(match.group(1))
            self._send(handler, path, range_header, 206, data[start:],
                       {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
            return
        if relpath == self.hold:
            self._send_held(handler, path, data)
            return
        self._send(handler, path, range_header, 200, data)

    def _send(self, handler: BaseHTTPRequestHandler, path: str, range_header: str | None,
              status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.requests.append((path, range_header, status))
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _send_held(self, handler: BaseHTTPRequestHandler, path: str, data: bytes) -> None:
        self.requests.append((path, None, 200))
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data[: len(data) // 2])
        handler.wfile.flush()
        self.held.set()
        rest = data[len(data) // 2:]
        try:
            # A byte now and then keeps the download alive (the importer's read timeout is per
            # read) however long the test takes on a loaded machine, and the file unfinished.
            for position in range(len(rest) - 1):
                if self.release.wait(TRICKLE_SECONDS):
                    break
                handler.wfile.write(rest[position:position + 1])
                handler.wfile.flush()
            else:
                position = len(rest) - 1
                self.release.wait(HOLD_SECONDS)
            handler.wfile.write(rest[position:])
        except OSError:
            pass  # the importer was interrupted and hung up
