"""Reads of the active channel database for the content API, in a fixed, small number of queries.

Everything here runs inside a channel context (the routing middleware for HTTP, or
`using_content_database(channel_id)`), so content queries go to that channel's file; the device
state (which stored files are present here) comes from the default database.

A page of nodes costs three queries whatever its size: the nodes, their files (one query, with
their `LocalFile` joined), and which of those files are present on this server. The detail adds
one for the ancestors.

    with using_content_database(channel_id):
        page = list(list_nodes(NodeFilter(parent=root_id)))
        cards = node_cards(page)        # files, thumbnail and `available` of each node
        detail = node_detail(find_node(node_id))
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

from django.db.models import Q, QuerySet

from content.constants import TOPIC
from content.filters import FileFilter, NodeFilter, is_valid_node_id
from content.availability import available_topic_ids
from content.models import ContentNode, File
from content.rendering import render_files
from storage.files import present_checksums

# SQLite allows 999 parameters per query in old builds; stay under it on every backend.
IN_QUERY_CHUNK = 900


@dataclass(frozen=True)
class FileCard:
    """One `File` row as the API shows it, with whether its bytes are on this server."""

    id: str
    contentnode: str
    checksum: str
    extension: str
    preset: str
    thumbnail: bool
    supplementary: bool
    lang: str | None
    file_size: int | None
    url: str
    available: bool


@dataclass(frozen=True)
class NodeCard:
    """One node with what its listing needs: files, thumbnail URL, and availability here."""

    node: ContentNode
    files: list[FileCard]
    file_rows: list[File]
    thumbnail_url: str | None
    available: bool

    @property
    def id(self) -> str:
        return self.node.id


@dataclass(frozen=True)
class Ancestor:
    id: str
    title: str


@dataclass(frozen=True)
class NodeDetail:
    card: NodeCard
    ancestors: list[Ancestor]
    rendering: dict[str, object]


def list_nodes(node_filter: NodeFilter) -> QuerySet[ContentNode]:
    """The nodes asked for, in a stable order that pagination can rely on.

    Children of one parent come in `sort_order` (the author's order), then `lft`; a list that is
    not one parent's children comes in tree order (`lft`, a depth-first walk), which for the
    builder's files is the same order among siblings and keeps a topic before its contents.
    """
    nodes = ContentNode.objects.all()
    if node_filter.parent is not None:
        nodes = nodes.filter(parent_id=node_filter.parent)
    if node_filter.kind is not None:
        nodes = nodes.filter(kind=node_filter.kind)
    if node_filter.search is not None:
        # LIKE on SQLite folds case for ASCII letters only; other scripts match case-sensitively.
        nodes = nodes.filter(Q(title__icontains=node_filter.search)
                             | Q(description__icontains=node_filter.search))
    if node_filter.parent is not None:
        return nodes.order_by("sort_order", "lft", "id")
    return nodes.order_by("lft", "id")


def find_node(node_id: str) -> ContentNode | None:
    """The node with this id, or None for an unknown or malformed id (checked before querying)."""
    if not is_valid_node_id(node_id):
        return None
    return ContentNode.objects.filter(id=node_id).first()


def files_of_nodes(node_ids: Sequence[str]) -> dict[str, list[File]]:
    """node id -> its File rows (priority order), for many nodes in one query per 900 nodes."""
    by_node: dict[str, list[File]] = defaultdict(list)
    unique_ids = list(dict.fromkeys(node_ids))
    for start in range(0, len(unique_ids), IN_QUERY_CHUNK):
        rows = (File.objects.filter(contentnode_id__in=unique_ids[start:start + IN_QUERY_CHUNK])
                .select_related("local_file")
                .order_by("contentnode_id", "priority", "id"))
        for file_row in rows:
            by_node[file_row.contentnode_id].append(file_row)
    return by_node


def file_checksum(file_row: File) -> str:
    """The MD5 that names the bytes: `LocalFile.id` in Kolibri's schema (Studio's copy as fallback)."""
    return file_row.local_file_id or file_row.checksum


def file_card(file_row: File, present: set[str]) -> FileCard:
    local_file = file_row.local_file
    checksum = file_checksum(file_row)
    file_size = file_row.file_size if file_row.file_size is not None else local_file.file_size
    return FileCard(
        id=file_row.id, contentnode=file_row.contentnode_id, checksum=checksum,
        extension=file_row.extension or local_file.extension, preset=file_row.preset,
        thumbnail=file_row.thumbnail, supplementary=file_row.supplementary,
        lang=file_row.lang_id, file_size=file_size, url=file_row.get_url(),
        available=checksum in present,
    )


def is_essential(file_row: File) -> bool:
    """A file the node cannot be played without: neither a thumbnail nor supplementary.

    Le-utils marks thumbnail presets supplementary; our constants keep the two flags apart, so
    both are checked here. A missing poster image does not make a video unplayable.
    """
    return not file_row.thumbnail and not file_row.supplementary


def node_is_available(node: ContentNode, file_rows: Iterable[File], present: set[str]) -> bool:
    """Device state (content.availability): a resource whose essential files are all here; a
    topic with such a resource below it. The channel file's own column is not consulted."""
    if node.kind == TOPIC:
        return node.id in available_topic_ids(node._state.db or node.channel_id)
    essential = [file_checksum(file_row) for file_row in file_rows if is_essential(file_row)]
    return bool(essential) and all(checksum in present for checksum in essential)


def node_cards(nodes: Sequence[ContentNode]) -> list[NodeCard]:
    """Cards for a page of nodes: one query for their files, one for which files are here."""
    files_by_node = files_of_nodes([node.id for node in nodes])
    present = present_checksums({file_checksum(file_row)
                                 for rows in files_by_node.values() for file_row in rows})
    cards = []
    for node in nodes:
        file_rows = files_by_node.get(node.id, [])
        files = [file_card(file_row, present) for file_row in file_rows]
        # A thumbnail whose bytes are not here would be a broken image: show none instead.
        thumbnail_url = next((item.url for item in files if item.thumbnail and item.available),
                             None)
        cards.append(NodeCard(node=node, files=files, file_rows=file_rows,
                              thumbnail_url=thumbnail_url,
                              available=node_is_available(node, file_rows, present)))
    return cards


def node_detail(node: ContentNode) -> NodeDetail:
    """A node's card plus its ancestors (root first) and what the rendering workflow chose."""
    card = node_cards([node])[0]
    ancestors = [Ancestor(id=row["id"], title=row["title"])
                 for row in node.get_ancestors().values("id", "title")]
    rendering = render_files(node.kind, card.file_rows).as_dict()
    return NodeDetail(card=card, ancestors=ancestors, rendering=rendering)


def list_files(file_filter: FileFilter) -> QuerySet[File]:
    """The channel's File rows, grouped by node, in a stable order for pagination."""
    files = File.objects.select_related("local_file")
    if file_filter.contentnode is not None:
        files = files.filter(contentnode_id=file_filter.contentnode)
    return files.order_by("contentnode_id", "priority", "id")


def file_cards(file_rows: Sequence[File]) -> list[FileCard]:
    """Cards for a page of files: one query for which of them are present here."""
    present = present_checksums({file_checksum(file_row) for file_row in file_rows})
    return [file_card(file_row, present) for file_row in file_rows]
