"""The content API's cards (files, thumbnail, `available`) for a page of search hits that come
from many channels, in one query per channel plus one for the whole page's device state.

`content.selectors.node_cards` costs three ORM queries per channel; a search page touches up
to 20 channels, and those queries were 80% of a search request (profiled: 28 of 35 ms with 20
channels). Here each channel's nodes and files come from one SQL join on that channel's own
connection (never a join across channel files), and which files are present here comes from
one query for the page. The cards are built with the selectors' own functions, so `available`
means the same as in the content API.

    cards = page_cards({channel_id: [node_id, ...], ...}, {channel_id: version, ...})

The join runs on a plain read-only sqlite3 connection per channel version and server thread,
as the index queries do, not through the channel's Django alias: activating the alias and
Django's cursor cost more than the join itself (profiled, 100 channels: about 0.6 of the 0.9
ms per channel on a page). The connection is opened on the served file while the registry
names `version`, and kept for that version only: the served path is replaced by a rename when
another version becomes current, and a connection keeps reading the file it opened, which is
that version's immutable bytes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from contextlib import nullcontext

from content.selectors import (
    FileValues,
    NodeCard,
    NodeRow,
    file_card,
    file_checksum,
    node_is_available,
)
from content.constants import TOPIC
from content.search.index import open_read_only
from content.search.query import close_connections_where, thread_connections
from routers.context import using_content_database
from routers.errors import ChannelDatabaseNotFoundError
from routers.registry import channel_database_path
from storage.files import present_checksums

# Connections per server thread; beyond it the least recently used are closed.
CARD_CONNECTIONS_PER_THREAD = 128
CARD_CACHE_KIB = 256

_thread_state = threading.local()

# Columns in NodeRow's order, then FileValues' (content.selectors); channel files follow
# Kolibri's schema (CHANNEL_FORMAT.md), so these names are an interface, not a guess.
PAGE_SQL = (
    "SELECT n.id, n.channel_id, n.content_id, n.parent_id, n.title, n.description, n.kind, "
    "n.sort_order, f.id, f.contentnode_id, f.local_file_id, f.checksum, f.extension, "
    "l.extension, f.preset, f.thumbnail, f.supplementary, f.lang_id, f.file_size, l.file_size "
    "FROM content_contentnode AS n "
    "LEFT JOIN content_file AS f ON f.contentnode_id = n.id "
    "LEFT JOIN content_localfile AS l ON l.id = f.local_file_id "
    "WHERE n.id IN ({placeholders}) ORDER BY n.id, f.priority, f.id")


def page_cards(node_ids_by_channel: dict[str, list[str]],
               versions: dict[str, int]) -> dict[tuple[str, str], NodeCard]:
    """1. Each channel's nodes with their files, from its own database; 2. one query for
    which of all those files are here; 3. the cards. A channel whose file is gone is skipped.

    `versions` holds the version the registry names for every channel searched; this thread's
    connections to any other (a replaced version, a deleted channel) are closed."""
    _close_other_versions(versions)
    rows: dict[str, tuple[list[NodeRow], dict[str, list[FileValues]]]] = {}
    for channel_id, node_ids in node_ids_by_channel.items():
        try:
            rows[channel_id] = _read_channel(channel_id, versions[channel_id], node_ids)
        except sqlite3.Error:
            continue  # the file is gone (deleted a moment ago) or unreadable
    present = present_checksums({file_checksum(values) for _nodes, files in rows.values()
                                 for file_list in files.values() for values in file_list})
    cards: dict[tuple[str, str], NodeCard] = {}
    for channel_id, (nodes, files_by_node) in rows.items():
        # A topic's availability comes from content.availability, which reads the channel
        # through its alias: only then is the alias activated.
        topics_here = any(node.kind == TOPIC for node in nodes)
        try:
            with using_content_database(channel_id) if topics_here else nullcontext():
                for node in nodes:
                    cards[(channel_id, node.id)] = _card(
                        node, files_by_node.get(node.id, []), present, channel_id)
        except ChannelDatabaseNotFoundError:
            continue  # deleted since its rows were read
    return cards


def _card(node: NodeRow, file_rows: list[FileValues], present: set[str],
          channel_id: str) -> NodeCard:
    files = [file_card(values, present) for values in file_rows]
    thumbnail_url = next((item.url for item in files if item.thumbnail and item.available),
                         None)
    return NodeCard(node=node, files=files, thumbnail_url=thumbnail_url,
                    available=node_is_available(node, file_rows, present, channel_id))


def _read_channel(channel_id: str, version: int,
                  node_ids: list[str]) -> tuple[list[NodeRow], dict[str, list[FileValues]]]:
    nodes: dict[str, NodeRow] = {}
    files: dict[str, list[FileValues]] = {}
    unique_ids = list(dict.fromkeys(node_ids))
    connection = _card_connection(channel_id, version)
    rows = connection.execute(PAGE_SQL.format(placeholders=", ".join(["?"] * len(unique_ids))),
                              unique_ids).fetchall()
    for row in rows:
        node_id = row[0]
        if node_id not in nodes:
            nodes[node_id] = NodeRow(*row[:8])
            files[node_id] = []
        if row[8] is not None:
            (file_id, contentnode_id, local_file_id, checksum, extension,
             local_extension, preset, thumbnail, supplementary, lang_id, file_size,
             local_file_size) = row[8:]
            files[node_id].append(FileValues(
                file_id, contentnode_id, local_file_id, checksum, extension,
                local_extension, preset, bool(thumbnail), bool(supplementary), lang_id,
                file_size, local_file_size))
    return list(nodes.values()), files


def _connections() -> OrderedDict[tuple[str, int], sqlite3.Connection]:
    return thread_connections(_thread_state)


def _card_connection(channel_id: str, version: int) -> sqlite3.Connection:
    connections = _connections()
    key = (channel_id, version)
    connection = connections.get(key)
    if connection is not None:
        connections.move_to_end(key)
        return connection
    # `immutable`: the inode opened never changes (a new version is a new file renamed over
    # the path), so SQLite may skip its locks and change checks.
    connection = open_read_only(channel_database_path(channel_id), immutable=True)
    connection.execute(f"PRAGMA cache_size = -{CARD_CACHE_KIB}")
    connections[key] = connection
    while len(connections) > CARD_CONNECTIONS_PER_THREAD:
        _key, oldest = connections.popitem(last=False)
        oldest.close()
    return connection


def _close_other_versions(versions: dict[str, int]) -> None:
    close_connections_where(_thread_state, lambda key: versions.get(key[0]) != key[1])


def forget_card_connections(channel_id: str) -> None:
    """Close this thread's connections to the channel (before its files are removed)."""
    close_connections_where(_thread_state, lambda key: key[0] == channel_id)
