"""Reads for the learner pages: what the channel list, a topic page and a content page show.

Channel pages run with the channel's database active (the routing middleware sets it from the
URL's `channel_id`), so these functions query content models directly. They return plain
dataclasses that the templates read; nothing here knows about requests.

    page = topic_page(channel_id, node_id=None, page_number=1)    # the channel's root topic
    page.channel.name, [crumb.title for crumb in page.breadcrumbs], page.items[0].template
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.http import Http404
from django.utils.translation import gettext

from channels.models import Channel
from channels.selectors import servable_channels
from content.availability import available_node_ids
from content.models import ChannelMetadata, ContentNode, Language
from content.navigation import NavigationItem, navigation_items
from content.rendering import RenderedFile, Rendering, render_node
from routers.ids import is_valid_channel_id

CARDS_PER_PAGE = 60
# Channel thumbnails are data URIs stored in the registry; anything else is not shown.
THUMBNAIL_DATA_PREFIXES = ("data:image/png;", "data:image/jpeg;", "data:image/jpg;",
                           "data:image/gif;", "data:image/webp;")


@dataclass(frozen=True)
class ChannelCard:
    id: str
    name: str
    description: str
    version: int
    version_label: str
    node_count: int
    thumbnail: str | None


@dataclass(frozen=True)
class Breadcrumb:
    title: str
    url_name: str
    node_id: str | None


@dataclass(frozen=True)
class Caption:
    url: str
    srclang: str | None
    label: str


@dataclass
class TopicPage:
    channel: Channel
    node: ContentNode
    breadcrumbs: list[Breadcrumb]
    items: list[NavigationItem]
    page: Page
    is_root: bool


@dataclass
class ContentPage:
    channel: Channel
    node: ContentNode
    breadcrumbs: list[Breadcrumb]
    rendering: Rendering
    available: bool = False
    captions: list[Caption] = field(default_factory=list)
    downloads: list[RenderedFile] = field(default_factory=list)


def safe_thumbnail(value: str) -> str | None:
    return value if value.startswith(THUMBNAIL_DATA_PREFIXES) else None


def channel_cards() -> list[ChannelCard]:
    return [
        ChannelCard(id=channel.id, name=channel.name, description=channel.description,
                    version=channel.version, version_label=channel.version_label,
                    node_count=channel.node_count, thumbnail=safe_thumbnail(channel.thumbnail))
        for channel in servable_channels()
    ]


def get_channel(channel_id: str) -> Channel:
    channel = Channel.objects.servable().filter(id=channel_id).first()
    if channel is None:
        raise Http404(gettext("No such channel on this server."))
    return channel


def get_node(node_id: str) -> ContentNode:
    """A node of the active channel database; malformed or unknown ids are a 404."""
    if not is_valid_channel_id(node_id):
        raise Http404(gettext("No such item in this channel."))
    node = ContentNode.objects.filter(id=node_id).first()
    if node is None:
        raise Http404(gettext("No such item in this channel."))
    return node


def root_node_id(channel: Channel) -> str:
    if channel.root_id:
        return channel.root_id
    metadata = ChannelMetadata.objects.filter(id=channel.id).first()
    if metadata is None:
        raise Http404(gettext("This channel has no content."))
    return metadata.root_id


def breadcrumbs(channel: Channel, node: ContentNode, *, include_self: bool) -> list[Breadcrumb]:
    """Home, the channel (its root topic), then every topic down to `node`."""
    crumbs = [Breadcrumb(title="Channels", url_name="frontend:home", node_id=None)]
    ancestors = list(node.get_ancestors(include_self=include_self))
    for ancestor in ancestors:
        if ancestor.parent_id is None:
            crumbs.append(Breadcrumb(title=channel.name, url_name="frontend:channel",
                                     node_id=None))
        else:
            crumbs.append(Breadcrumb(title=ancestor.title, url_name="frontend:topic",
                                     node_id=ancestor.id))
    return crumbs


def topic_page(channel_id: str, node_id: str | None, page_number: object = 1) -> TopicPage:
    channel = get_channel(channel_id)
    node = get_node(node_id if node_id is not None else root_node_id(channel))
    children = node.get_children().order_by("sort_order", "lft")
    page = Paginator(children, CARDS_PER_PAGE).get_page(page_number)
    return TopicPage(channel=channel, node=node,
                     breadcrumbs=breadcrumbs(channel, node, include_self=False),
                     items=navigation_items(page.object_list), page=page,
                     is_root=node.parent_id is None)


def caption_tracks(files: list[RenderedFile]) -> list[Caption]:
    """WebVTT supplementary files as <track> attributes, labelled with the language's name."""
    vtt_files = [item for item in files if item.extension == "vtt"]
    codes = {item.lang for item in vtt_files if item.lang}
    names = dict(Language.objects.filter(id__in=codes).values_list("id", "lang_name"))
    return [
        Caption(url=item.url, srclang=item.lang,
                label=(names.get(item.lang or "") or item.lang or "Captions"))
        for item in vtt_files
    ]


def content_page(channel_id: str, node_id: str) -> ContentPage:
    channel = get_channel(channel_id)
    node = get_node(node_id)
    rendering = render_node(node)
    downloads = [item for item in (rendering.essential, *rendering.alternatives) if item]
    return ContentPage(channel=channel, node=node,
                       breadcrumbs=breadcrumbs(channel, node, include_self=False),
                       rendering=rendering, available=node.id in available_node_ids([node]),
                       captions=caption_tracks(rendering.supplementary),
                       downloads=downloads)
