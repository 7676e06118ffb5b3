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
from routers.context import get_active_content_database
from storage.files import present_checksums
from storage.paths import storage_url

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
class NodeRow:
    """The columns of a node a listing shows, read as plain values (no model instances: a
    page of 30 nodes with their files built ~90 of them per request, most of its cost)."""

    id: str
    channel_id: str
    content_id: str
    parent_id: str | None
    title: str
    description: str
    kind: str
    sort_order: float


NODE_ROW_FIELDS = ("id", "channel_id", "content_id", "parent_id", "title", "description",
                   "kind", "sort_order")
FILE_ROW_FIELDS = ("id", "contentnode_id", "local_file_id", "checksum", "extension",
                   "local_file__extension", "preset", "thumbnail", "supplementary", "lang_id",
                   "file_size", "local_file__file_size")


def active_channel_id() -> str:
    channel_id = get_active_content_database()
    if channel_id is None:
        raise RuntimeError("content selectors run inside a channel context")
    return channel_id


def node_row(node: ContentNode) -> NodeRow:
    return NodeRow(*(getattr(node, name) for name in NODE_ROW_FIELDS))


@dataclass(frozen=True)
class NodeCard:
    """One node with what its listing needs: files, thumbnail URL, and availability here."""

    node: NodeRow
    files: list[FileCard]
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
    """`node_queryset` as plain rows, ready for `node_cards`."""
    return node_queryset(node_filter).values_list(*NODE_ROW_FIELDS)  # type: ignore[return-value]


def node_queryset(node_filter: NodeFilter) -> QuerySet[ContentNode]:
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


def files_of_nodes(node_ids: Sequence[str]) -> dict[str, list[FileValues]]:
    """node id -> its files' columns (priority order), one query per 900 nodes."""
    by_node: dict[str, list[FileValues]] = defaultdict(list)
    unique_ids = list(dict.fromkeys(node_ids))
    for start in range(0, len(unique_ids), IN_QUERY_CHUNK):
        rows = (File.objects.filter(contentnode_id__in=unique_ids[start:start + IN_QUERY_CHUNK])
                .order_by("contentnode_id", "priority", "id").values_list(*FILE_ROW_FIELDS))
        for row in rows:
            by_node[row[1]].append(FileValues(*row))
    return by_node


@dataclass(frozen=True)
class FileValues:
    """A `File` row joined with its `LocalFile`, as plain values (FILE_ROW_FIELDS)."""

    id: str
    contentnode_id: str
    local_file_id: str | None
    checksum: str | None
    extension: str | None
    local_extension: str | None
    preset: str
    thumbnail: bool
    supplementary: bool
    lang_id: str | None
    file_size: int | None
    local_file_size: int | None


def file_values(file_row: File) -> FileValues:
    local_file = file_row.local_file
    return FileValues(file_row.id, file_row.contentnode_id, file_row.local_file_id,
                      file_row.checksum, file_row.extension, local_file.extension,
                      file_row.preset, file_row.thumbnail, file_row.supplementary,
                      file_row.lang_id, file_row.file_size, local_file.file_size)


def file_checksum(file_row: File | FileValues) -> str:
    """The MD5 that names the bytes: `LocalFile.id` in Kolibri's schema (Studio's copy as fallback)."""
    return file_row.local_file_id or file_row.checksum or ""


def file_card(values: FileValues, present: set[str]) -> FileCard:
    checksum = file_checksum(values)
    extension = values.extension or values.local_extension or ""
    file_size = values.file_size if values.file_size is not None else values.local_file_size
    return FileCard(
        id=values.id, contentnode=values.contentnode_id, checksum=checksum,
        extension=extension, preset=values.preset, thumbnail=values.thumbnail,
        supplementary=values.supplementary, lang=values.lang_id, file_size=file_size,
        url=storage_url(checksum, extension), available=checksum in present,
    )


def is_essential(file_row: File | FileValues) -> bool:
    """A file the node cannot be played without: neither a thumbnail nor supplementary.

    Le-utils marks thumbnail presets supplementary; our constants keep the two flags apart, so
    both are checked here. A missing poster image does not make a video unplayable.
    """
    return not file_row.thumbnail and not file_row.supplementary


def node_is_available(node: NodeRow, file_rows: Iterable[File | FileValues],
                      present: set[str], channel_id: str) -> bool:
    """Device state (content.availability): a resource whose essential files are all here; a
    topic with such a resource below it. The channel file's own column is not consulted."""
    if node.kind == TOPIC:
        return node.id in available_topic_ids(channel_id)
    essential = [file_checksum(file_row) for file_row in file_rows if is_essential(file_row)]
    return bool(essential) and all(checksum in present for checksum in essential)


def node_cards(rows: Sequence[tuple[object, ...] | NodeRow]) -> list[NodeCard]:
    """Cards for a page of nodes: one query for their files, one for which files are here."""
    nodes = [row if isinstance(row, NodeRow) else NodeRow(*row) for row in rows]  # type: ignore[arg-type]
    files_by_node = files_of_nodes([node.id for node in nodes])
    present = present_checksums({file_checksum(file_row)
                                 for values in files_by_node.values() for file_row in values})
    channel_id = active_channel_id()
    cards = []
    for node in nodes:
        file_rows = files_by_node.get(node.id, [])
        files = [file_card(file_row, present) for file_row in file_rows]
        # A thumbnail whose bytes are not here would be a broken image: show none instead.
        thumbnail_url = next((item.url for item in files if item.thumbnail and item.available),
                             None)
        cards.append(NodeCard(node=node, files=files, thumbnail_url=thumbnail_url,
                              available=node_is_available(node, file_rows, present,
                                                          channel_id)))
    return cards


def node_detail(node: ContentNode) -> NodeDetail:
    """A node's card plus its ancestors (root first) and what the rendering workflow chose."""
    card = node_cards([node_row(node)])[0]
    ancestors = [Ancestor(id=row["id"], title=row["title"])
                 for row in node.get_ancestors().values("id", "title")]
    file_rows = list(File.objects.filter(contentnode_id=node.id).select_related("local_file")
                     .order_by("priority", "id"))
    rendering = render_files(node.kind, file_rows).as_dict()
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
    return [file_card(file_values(file_row), present) for file_row in file_rows]
