"""Invariant 1 through a real server: 24 client threads, 3 channels, interleaved, with errors.

The channels are built with the real builder into the server's CONTENT_DIR before it starts;
the server registers them with its own `scanchannels`. Every answer is checked against what its
channel holds: its `channel_id`, its titles (distinct per channel), and 404 for another channel's
node ids. Loops are bounded and every request has a timeout.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import small_tree
from tests.servers import ServerProcess

pytestmark = [pytest.mark.django_db, pytest.mark.server]

CLIENT_THREADS = 24
ROUNDS_PER_THREAD = 12
TIMEOUT = 20
LABELS = ("algebra", "botany", "chemistry")


@dataclass(frozen=True)
class KnownChannel:
    channel_id: str
    label: str
    root_id: str
    topic_ids: tuple[str, ...]
    leaf_ids: tuple[str, ...]


@pytest.fixture
def three_channels(make_channel) -> list[KnownChannel]:
    """Build the three channels in the test process; the builder fills in the node ids."""
    known = []
    for label in LABELS:
        root = small_tree(label, topics=3, leaves=4)
        result = make_channel(label, root=root)
        known.append(KnownChannel(
            channel_id=result.channel_id, label=label, root_id=root.id or "",
            topic_ids=tuple(topic.id or "" for topic in root.children),
            leaf_ids=tuple(leaf.id or "" for topic in root.children for leaf in topic.children)))
    return known


def check_list(session: requests.Session, base: str, channel: KnownChannel) -> None:
    response = session.get(f"{base}/api/content/{channel.channel_id}/contentnode/",
                           params={"page_size": 100}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 1 + 3 + 12
    for node in results:
        assert node["channel_id"] == channel.channel_id
        assert node["title"].startswith(channel.label + " ")


def check_detail(session: requests.Session, base: str, channel: KnownChannel,
                 index: int) -> None:
    node_id = channel.leaf_ids[index % len(channel.leaf_ids)]
    response = session.get(f"{base}/api/content/{channel.channel_id}/contentnode/{node_id}/",
                           timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    node = response.json()
    assert node["id"] == node_id and node["channel_id"] == channel.channel_id
    topic_index, leaf_index = divmod(index % len(channel.leaf_ids), 4)
    assert node["title"] == f"{channel.label} leaf {topic_index}.{leaf_index}"
    assert [item["title"] for item in node["ancestors"]] == [
        f"{channel.label} root", f"{channel.label} topic {topic_index}"]
    assert node["rendering"]["player"] == "pdf"


def check_filter(session: requests.Session, base: str, channel: KnownChannel,
                 index: int) -> None:
    topic_id = channel.topic_ids[index % len(channel.topic_ids)]
    response = session.get(f"{base}/api/content/{channel.channel_id}/contentnode/",
                           params={"parent": topic_id, "kind": "document"}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    titles = [node["title"] for node in response.json()["results"]]
    topic_index = index % len(channel.topic_ids)
    assert titles == [f"{channel.label} leaf {topic_index}.{leaf}" for leaf in range(4)]


def check_errors(session: requests.Session, base: str, channel: KnownChannel,
                 other: KnownChannel, index: int) -> None:
    """Requests that fail in between: unknown node, another channel's node, bad filter."""
    for node_id in ("f" * 32, other.leaf_ids[index % len(other.leaf_ids)], "NOT-AN-ID"):
        response = session.get(
            f"{base}/api/content/{channel.channel_id}/contentnode/{node_id}/", timeout=TIMEOUT)
        assert response.status_code == 404, response.text
        assert set(response.json()) == {"detail"}
    response = session.get(f"{base}/api/content/{channel.channel_id}/contentnode/",
                           params={"parent": "zz"}, timeout=TIMEOUT)
    assert response.status_code == 400


def client_thread(base: str, channels: list[KnownChannel], thread_index: int,
                  start: threading.Barrier) -> int:
    """One client: a bounded loop over the channels, shifted per thread so they interleave."""
    checked = 0
    start.wait()
    with requests.Session() as session:
        for round_index in range(ROUNDS_PER_THREAD):
            channel = channels[(thread_index + round_index) % 3]
            other = channels[(thread_index + round_index + 1) % 3]
            step = (thread_index + round_index) % 4
            if step == 0:
                check_list(session, base, channel)
            elif step == 1:
                check_detail(session, base, channel, thread_index + round_index)
            elif step == 2:
                check_filter(session, base, channel, thread_index + round_index)
            else:
                check_errors(session, base, channel, other, thread_index + round_index)
            # Right after, the same connection asks another channel.
            check_list(session, base, other)
            checked += 2
    return checked


def test_every_answer_comes_from_the_right_channel(tmp_path: Path, content_dir: Path,
                                                   three_channels):
    # The builder wrote into settings.CONTENT_* = content_dir: the server serves that folder.
    with ServerProcess(tmp_path / "server", content_dir=content_dir) as server:
        listed = requests.get(f"{server.url}/api/channels/", timeout=TIMEOUT).json()
        assert {item["id"] for item in listed["results"]} == {
            channel.channel_id for channel in three_channels}

        start = threading.Barrier(CLIENT_THREADS, timeout=60)
        with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
            futures = [pool.submit(client_thread, server.url, three_channels, index, start)
                       for index in range(CLIENT_THREADS)]
            checked = sum(future.result(timeout=300) for future in futures)
        assert checked == CLIENT_THREADS * ROUNDS_PER_THREAD * 2

        # After all that, each channel still answers with its own nodes, one by one.
        with requests.Session() as session:
            for channel in three_channels:
                check_list(session, server.url, channel)
        assert "Traceback" not in server.output()
