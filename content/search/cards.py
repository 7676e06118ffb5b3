"""The content API's cards (files, thumbnail, `available`) for a page of search hits that come
from many channels, in one query per channel plus one for the whole page's device state.

`content.selectors.node_cards` costs three ORM queries per channel; a search page touches up
to 20 channels, and those queries were 80% of a search request (profiled: 28 of 35 ms with 20
channels). Here each channel's nodes and files come from one SQL join on that channel's own
connection (never a join across channel files), and which files are present here comes from
one query for the page. The cards are built with the selectors' own functions, so `available`
means the same as in the content API.

    cards = page_cards({channel_id: [node_id, ...], ...})   # {(channel_id, node_id): NodeCard}
"""

from __future__ import annotations

from django.db import connections

from content.selectors import (
    FileValues,
    NodeCard,
    NodeRow,
    file_card,
    file_checksum,
    node_is_available,
)
from routers.context import using_content_database
from routers.errors import ChannelDatabaseNotFoundError
from storage.files import present_checksums

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


def page_cards(node_ids_by_channel: dict[str, list[str]]) -> dict[tuple[str, str], NodeCard]:
    """1. Each channel's nodes with their files, from its own database; 2. one query for
    which of all those files are here; 3. the cards. A channel whose file is gone is skipped."""
    rows: dict[str, tuple[list[NodeRow], dict[str, list[FileValues]]]] = {}
    for channel_id, node_ids in node_ids_by_channel.items():
        try:
            rows[channel_id] = _read_channel(channel_id, node_ids)
        except ChannelDatabaseNotFoundError:
            continue
    present = present_checksums({file_checksum(values) for _nodes, files in rows.values()
                                 for file_list in files.values() for values in file_list})
    cards: dict[tuple[str, str], NodeCard] = {}
    for channel_id, (nodes, files_by_node) in rows.items():
        for node in nodes:
            file_rows = files_by_node.get(node.id, [])
            files = [file_card(values, present) for values in file_rows]
            thumbnail_url = next((item.url for item in files if item.thumbnail and item.available),
                                 None)
            cards[(channel_id, node.id)] = NodeCard(
                node=node, files=files, thumbnail_url=thumbnail_url,
                available=node_is_available(node, file_rows, present, channel_id))
    return cards


def _read_channel(channel_id: str,
                  node_ids: list[str]) -> tuple[list[NodeRow], dict[str, list[FileValues]]]:
    nodes: dict[str, NodeRow] = {}
    files: dict[str, list[FileValues]] = {}
    unique_ids = list(dict.fromkeys(node_ids))
    with using_content_database(channel_id):
        with connections[channel_id].cursor() as cursor:
            cursor.execute(PAGE_SQL.format(placeholders=", ".join(["%s"] * len(unique_ids))),
                           unique_ids)
            for row in cursor.fetchall():
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
