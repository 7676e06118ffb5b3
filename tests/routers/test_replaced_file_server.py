"""Invariant 2 through a real server: a channel file replaced by atomic rename is read by the
next request in every server thread, without a restart.

The server's threads first open connections to the old file (many concurrent requests, so most
of its 16 threads hold one). Then the test process builds a new version with other titles and
installs it (check, fsync, `os.replace`), as another process (an import command) would. Every
one of the next 40 concurrent requests must show the new titles.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from channels.builder import ChannelSpec, build_channel
from tests.conftest import small_tree
from tests.servers import ServerProcess

pytestmark = [pytest.mark.django_db, pytest.mark.server]

CONCURRENT_REQUESTS = 40
TIMEOUT = 20


def fetch_titles(base: str, channel_id: str, start: threading.Barrier) -> set[str]:
    start.wait()
    response = requests.get(f"{base}/api/content/{channel_id}/contentnode/",
                            params={"page_size": 100}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert {node["channel_id"] for node in results} == {channel_id}
    return {node["title"] for node in results}


def titles_from_many_threads(base: str, channel_id: str) -> list[set[str]]:
    start = threading.Barrier(CONCURRENT_REQUESTS, timeout=60)
    with ThreadPoolExecutor(max_workers=CONCURRENT_REQUESTS) as pool:
        futures = [pool.submit(fetch_titles, base, channel_id, start)
                   for _ in range(CONCURRENT_REQUESTS)]
        return [future.result(timeout=120) for future in futures]


def test_the_next_requests_see_the_new_file_in_every_thread(tmp_path: Path, content_dir: Path,
                                                            make_channel):
    old = make_channel("old", topics=2, leaves=3)
    old_titles = {"old root", "old topic 0", "old topic 1"} | {
        f"old leaf {topic}.{leaf}" for topic in range(2) for leaf in range(3)}
    with ServerProcess(tmp_path / "server", content_dir=content_dir) as server:
        for _ in range(3):  # open connections to the old file in (almost) every thread
            assert all(titles == old_titles
                       for titles in titles_from_many_threads(server.url, old.channel_id))

        new = build_channel(ChannelSpec(name="New", id=old.channel_id, version=2,
                                        root=small_tree("new", topics=3, leaves=2)))
        assert new.path == old.path
        new_titles = {"new root", "new topic 0", "new topic 1", "new topic 2"} | {
            f"new leaf {topic}.{leaf}" for topic in range(3) for leaf in range(2)}
        for _ in range(2):
            seen = titles_from_many_threads(server.url, old.channel_id)
            assert len(seen) == CONCURRENT_REQUESTS
            assert all(titles == new_titles for titles in seen), [
                sorted(titles)[:2] for titles in seen if titles != new_titles]

        # The download a LAN peer makes is the new file too.
        download = requests.get(f"{server.url}/content/databases/{old.channel_id}.sqlite3",
                                timeout=TIMEOUT)
        assert download.status_code == 200
        assert download.content == old.path.read_bytes()
        assert "Traceback" not in server.output()
