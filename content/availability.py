"""Device state: which nodes of a channel can be played on this server.

A resource is available when it has essential files (neither thumbnail nor supplementary) and
all of them are present in the file store here; a topic is available when any resource below it
is. The channel file's own `available` column is not trusted for this: Kolibri and Studio ship
it as 0 until content is imported, and a partial import leaves whole subtrees without files.
Nothing is written into the served channel file.

Topics need the whole tree, so the answer is computed once per channel version and kept in
this process until the channel's file or the file store changes (the store is looked at again
at most every `STORE_RECHECK_SECONDS`).

    available_topic_ids(channel_id)      # inside using_content_database(channel_id)
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass

from django.db.models import Count, Max

from content.models import ContentNode, File
from routers.registry import channel_database_path
from storage.files import present_checksums
from storage.models import StoredFile

STORE_RECHECK_SECONDS = 2.0


@dataclass(frozen=True)
class ChannelAvailability:
    file_identity: tuple[int, int, int]
    store_fingerprint: tuple[int, object]
    checked_at: float
    available_topics: frozenset[str]


_cache: dict[str, ChannelAvailability] = {}
_lock = threading.Lock()


def store_fingerprint() -> tuple[int, object]:
    """Changes whenever a file is registered in or removed from the store."""
    summary = StoredFile.objects.aggregate(count=Count("checksum"), newest=Max("added_at"))
    return int(summary["count"]), summary["newest"]


def _file_identity(channel_id: str) -> tuple[int, int, int]:
    stat = channel_database_path(channel_id).stat()
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def available_topic_ids(channel_id: str) -> frozenset[str]:
    identity = _file_identity(channel_id)
    now = time.monotonic()
    cached = _cache.get(channel_id)
    if cached is not None and cached.file_identity == identity \
            and now - cached.checked_at < STORE_RECHECK_SECONDS:
        return cached.available_topics
    fingerprint = store_fingerprint()
    if cached is not None and cached.file_identity == identity \
            and cached.store_fingerprint == fingerprint:
        refreshed = ChannelAvailability(identity, fingerprint, now, cached.available_topics)
    else:
        refreshed = ChannelAvailability(identity, fingerprint, now, _compute_topics(channel_id))
    with _lock:
        _cache[channel_id] = refreshed
    return refreshed.available_topics


def _compute_topics(channel_id: str) -> frozenset[str]:
    """1. Every node's interval; 2. every resource's essential files; 3. which are here;
    4. a topic is available when an available resource's lft lies inside its interval."""
    database = ContentNode.objects.using(channel_id)
    nodes = list(database.values_list("id", "lft", "rght", "kind"))
    essential: dict[str, list[str]] = {}
    for node_id, checksum in (File.objects.using(channel_id)
                              .filter(thumbnail=False, supplementary=False)
                              .values_list("contentnode_id", "local_file_id")):
        essential.setdefault(node_id, []).append(checksum)
    present = present_checksums({checksum for checksums in essential.values()
                                 for checksum in checksums})
    available_lefts = sorted(
        lft for node_id, lft, _rght, kind in nodes
        if kind != "topic" and essential.get(node_id)
        and all(checksum in present for checksum in essential[node_id]))
    topics = set()
    for node_id, lft, rght, kind in nodes:
        if kind == "topic":
            index = bisect.bisect_right(available_lefts, lft)
            if index < len(available_lefts) and available_lefts[index] < rght:
                topics.add(node_id)
    return frozenset(topics)


def forget_availability(channel_id: str | None = None) -> None:
    with _lock:
        if channel_id is None:
            _cache.clear()
        else:
            _cache.pop(channel_id, None)


def available_node_ids(nodes: list[ContentNode]) -> set[str]:
    """Which of these nodes (of one channel, the active one or their own) are available here."""
    if not nodes:
        return set()
    channel_id = nodes[0]._state.db or nodes[0].channel_id
    topics = available_topic_ids(channel_id)
    resource_ids = [node.id for node in nodes if node.kind != "topic"]
    essential: dict[str, list[str]] = {}
    for start in range(0, len(resource_ids), 900):
        for node_id, checksum in (File.objects.using(channel_id)
                                  .filter(contentnode_id__in=resource_ids[start:start + 900],
                                          thumbnail=False, supplementary=False)
                                  .values_list("contentnode_id", "local_file_id")):
            essential.setdefault(node_id, []).append(checksum)
    present = present_checksums({checksum for checksums in essential.values()
                                 for checksum in checksums})
    available = {node.id for node in nodes if node.kind == "topic" and node.id in topics}
    available.update(node_id for node_id, checksums in essential.items()
                     if all(checksum in present for checksum in checksums))
    return available
