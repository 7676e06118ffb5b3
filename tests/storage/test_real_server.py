"""Stored files served by a real `kolibri-like start` process (waitress), fetched over HTTP."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.servers import ServerProcess
from tests.storage.conftest import write_into_storage

SIZE = 3 * 1024 * 1024 + 123
TIMEOUT = 30


def raw_get(base_url: str, raw_path: str,
            method: str = "GET") -> tuple[int, http.client.HTTPMessage, bytes]:
    """Send `raw_path` exactly as written (requests would remove `..` segments first)."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=TIMEOUT)
    try:
        connection.request(method, raw_path)
        response = connection.getresponse()
        return response.status, response.msg, response.read()
    finally:
        connection.close()


@pytest.mark.server
def test_a_real_server_serves_whole_files_and_ranges(tmp_path: Path) -> None:
    content_dir = tmp_path / "server-content"
    data = os.urandom(SIZE)
    video = write_into_storage(content_dir / "storage", data, "mp4")
    (content_dir / "secret.txt").write_bytes(b"secret")

    with ServerProcess(tmp_path / "server", content_dir=content_dir) as server:
        url = server.url + video.url
        with requests.Session() as session:
            whole = session.get(url, timeout=TIMEOUT)
            assert whole.status_code == 200
            assert whole.content == data
            assert hashlib.md5(whole.content).hexdigest() == video.checksum
            assert whole.headers["Content-Length"] == str(SIZE)
            assert whole.headers["Content-Type"] == "video/mp4"
            assert whole.headers["ETag"] == f'"{video.checksum}"'
            assert whole.headers["Accept-Ranges"] == "bytes"
            assert whole.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert whole.headers["X-Content-Type-Options"] == "nosniff"

            for header, start, end in [("bytes=0-99", 0, 99),
                                       ("bytes=1000000-2000000", 1000000, 2000000),
                                       ("bytes=-100", SIZE - 100, SIZE - 1),
                                       (f"bytes={SIZE - 5000}-", SIZE - 5000, SIZE - 1)]:
                part = session.get(url, headers={"Range": header}, timeout=TIMEOUT)
                assert part.status_code == 206, header
                assert part.content == data[start:end + 1], header
                assert part.headers["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
                assert part.headers["Content-Length"] == str(end - start + 1)

            too_far = session.get(url, headers={"Range": "bytes=999999999999-"},
                                  timeout=TIMEOUT)
            assert too_far.status_code == 416
            assert too_far.headers["Content-Range"] == f"bytes */{SIZE}"
            assert set(too_far.json()) == {"detail"}

            several = session.get(url, headers={"Range": "bytes=0-1,5-6"}, timeout=TIMEOUT)
            assert (several.status_code, several.content) == (200, data)

            cached = session.get(url, headers={"If-None-Match": f'"{video.checksum}"'},
                                 timeout=TIMEOUT)
            assert (cached.status_code, cached.content) == (304, b"")

        status, headers, body = raw_get(server.url, video.url, method="HEAD")
        assert (status, body) == (200, b"")
        assert headers["Content-Length"] == str(SIZE)
        assert headers["ETag"] == f'"{video.checksum}"'

        # A download manager: eight ranges at once, put back together.
        step = SIZE // 8 + 1
        spans = [(start, min(start + step, SIZE) - 1) for start in range(0, SIZE, step)]

        def fetch(span: tuple[int, int]) -> bytes:
            answer = requests.get(url, headers={"Range": f"bytes={span[0]}-{span[1]}"},
                                  timeout=TIMEOUT)
            assert answer.status_code == 206
            return answer.content

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert b"".join(pool.map(fetch, spans)) == data

        for raw_path in ["/content/storage/../../secret.txt",
                         "/content/storage/%2e%2e%2f%2e%2e%2fsecret.txt",
                         "/content/storage/%2e%2e/%2e%2e/secret.txt",
                         f"/content/storage/{video.checksum[0]}/{video.checksum[1]}/"
                         f"{video.checksum.upper()}.mp4",
                         video.url + "%0a"]:
            status, headers, body = raw_get(server.url, raw_path)
            assert status == 404, raw_path
            assert b"secret" not in body
            assert set(json.loads(body)) == {"detail"}, raw_path
