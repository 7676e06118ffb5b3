"""A peer resumes a channel database download, and never splices two versions together."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from channels.transfer.peer_http import download
from channels.versions import revert_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(make_channel):
    first = make_channel("first", topics=1, leaves=1)
    second = make_channel("second", channel_id=first.channel_id, topics=3, leaves=3)
    return second


def test_a_range_of_the_current_database_is_served(client, two_versions):
    url = f"/content/databases/{two_versions.channel_id}.sqlite3"
    whole = client.get(url)
    body = b"".join(whole.streaming_content)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    etag = whole["ETag"]
    part = client.get(url, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=etag)
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-{len(body) - 1}/{len(body)}"
    assert b"".join(part.streaming_content) == body[100:]


def test_another_version_answers_the_whole_file(client, two_versions):
    url = f"/content/databases/{two_versions.channel_id}.sqlite3"
    etag = client.get(url)["ETag"]
    revert_channel(two_versions.channel_id, 1)
    answer = client.get(url, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=etag)
    assert answer.status_code == 200
    assert answer["ETag"] != etag


class VersionedFile:
    """A peer serving `body` under one URL with an ETag, honouring Range with If-Range."""

    def __init__(self, body: bytes, etag: str) -> None:
        self.body, self.etag = body, etag
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                start = 0
                if_range = self.headers.get("If-Range")
                range_header = self.headers.get("Range", "")
                if range_header.startswith("bytes=") and if_range in (None, owner.etag):
                    start = int(range_header[6:].rstrip("-"))
                payload = owner.body[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(owner.body) - 1}/{len(owner.body)}")
                self.send_header("ETag", owner.etag)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/db.sqlite3"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_resumed_download_of_the_same_version_appends(tmp_path: Path):
    peer = VersionedFile(b"A" * 1000, '"v1"')
    part = tmp_path / "db.part"
    try:
        download(peer.url, part, limit=None, on_bytes=lambda count: None, label="peer")
        part.write_bytes(part.read_bytes()[:400])  # as if the link broke after 400 bytes
        received = download(peer.url, part, limit=None, on_bytes=lambda count: None,
                            label="peer")
    finally:
        peer.close()
    assert received == 600 and part.read_bytes() == b"A" * 1000


def test_a_resumed_download_after_a_new_version_starts_again(tmp_path: Path):
    peer = VersionedFile(b"A" * 1000, '"v1"')
    part = tmp_path / "db.part"
    try:
        download(peer.url, part, limit=None, on_bytes=lambda count: None, label="peer")
        part.write_bytes(part.read_bytes()[:400])
        peer.body, peer.etag = b"B" * 800, '"v2"'
        download(peer.url, part, limit=None, on_bytes=lambda count: None, label="peer")
    finally:
        peer.close()
    assert part.read_bytes() == b"B" * 800
