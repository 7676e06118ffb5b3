"""JSON shapes of the content API (INTERFACE.md). They only translate the selectors' cards.

Availability, thumbnails and files are computed by `content.selectors` for a whole page at once;
nothing here queries, so a page costs the same few queries at any size.

Plain functions rather than DRF `Serializer` classes: the API is read-only (nothing to validate)
and a 1000-node page spent about half of its time in DRF's per-field machinery (profiled: 314
of 660 ms), for the same output.

    body = [node_json(card) for card in node_cards(page)]
"""

from __future__ import annotations

from typing import Any

from content.selectors import FileCard, NodeCard, NodeDetail


def file_json(card: FileCard) -> dict[str, Any]:
    """A node's file; `available` says whether its bytes are on this server."""
    return {
        "id": card.id,
        "checksum": card.checksum,
        "extension": card.extension,
        "preset": card.preset,
        "thumbnail": card.thumbnail,
        "supplementary": card.supplementary,
        "lang": card.lang,
        "file_size": card.file_size,
        "url": card.url,
        "available": card.available,
    }


def channel_file_json(card: FileCard) -> dict[str, Any]:
    """`GET /api/content/<channel_id>/file/`: the same fields plus the node it belongs to."""
    data = file_json(card)
    data["contentnode"] = card.contentnode
    return data


def node_json(card: NodeCard) -> dict[str, Any]:
    """A node in a listing."""
    node = card.node
    return {
        "id": node.id,
        "channel_id": node.channel_id,
        "content_id": node.content_id,
        "parent": node.parent_id,
        "title": node.title,
        "description": node.description,
        "kind": node.kind,
        "sort_order": node.sort_order,
        "available": card.available,
        "thumbnail": card.thumbnail_url,
        "files": [file_json(item) for item in card.files],
    }


def node_detail_json(detail: NodeDetail) -> dict[str, Any]:
    """The listing's fields plus `ancestors` (root first) and `rendering`."""
    data = node_json(detail.card)
    data["ancestors"] = [{"id": ancestor.id, "title": ancestor.title}
                         for ancestor in detail.ancestors]
    data["rendering"] = detail.rendering
    return data
