"""The content navigation workflow (seed 3): how a node appears in a listing.

1. Start with a ContentNode.
2. Find its File with `thumbnail` true.
3. Its `get_url()` gives the thumbnail image.
4. The node's kind chooses the card template.
5. The page renders that template with the thumbnail.

`navigation_items` does this for a whole listing with one query for all thumbnails.

    items = navigation_items(node.get_children())   # inside using_content_database(channel_id)
    items[0].title, items[0].thumbnail_url, items[0].template
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from content.availability import available_node_ids
from content.models import ContentNode, File

CARD_TEMPLATES = {
    "topic": "frontend/cards/topic.html",
    "video": "frontend/cards/video.html",
    "audio": "frontend/cards/audio.html",
    "document": "frontend/cards/document.html",
    "exercise": "frontend/cards/exercise.html",
}
DEFAULT_CARD_TEMPLATE = "frontend/cards/resource.html"


@dataclass(frozen=True)
class NavigationItem:
    id: str
    title: str
    description: str
    kind: str
    available: bool
    thumbnail_url: str | None
    template: str


def card_template(kind: str) -> str:
    return CARD_TEMPLATES.get(kind, DEFAULT_CARD_TEMPLATE)


def thumbnail_urls(node_ids: Iterable[str]) -> dict[str, str]:
    """node id -> thumbnail URL, for the nodes that have a thumbnail file."""
    ids = list(node_ids)
    urls: dict[str, str] = {}
    if not ids:
        return urls
    for start in range(0, len(ids), 900):
        for file_row in (File.objects.filter(contentnode_id__in=ids[start:start + 900],
                                             thumbnail=True)
                         .select_related("local_file").order_by("priority")):
            urls.setdefault(file_row.contentnode_id, file_row.get_url())
    return urls


def navigation_items(nodes: Iterable[ContentNode]) -> list[NavigationItem]:
    nodes = list(nodes)
    urls = thumbnail_urls(node.id for node in nodes)
    available = available_node_ids(nodes)
    return [
        NavigationItem(id=node.id, title=node.title, description=node.description or "",
                       kind=node.kind, available=node.id in available,
                       thumbnail_url=urls.get(node.id), template=card_template(node.kind))
        for node in nodes
    ]


def navigation_item(node: ContentNode) -> NavigationItem:
    return navigation_items([node])[0]
