"""The read-only content API of one channel: `/api/content/<channel_id>/...` (INTERFACE.md).

The routing middleware has already checked `channel_id` (32 lowercase hex, registered, servable;
else 404) and made that channel's database the active one, so these views only validate their
own parameters, call a selector, and serialize. Malformed filter values answer 400 (see
`content.filters`); an unknown or malformed node id answers 404. Reads follow the default
permission class (`accounts.permissions.GuestReadable`: anyone when ALLOW_GUEST_ACCESS is on).

    GET /api/content/<channel_id>/contentnode/?parent=<node_id>&kind=video&search=fractions
    GET /api/content/<channel_id>/contentnode/<node_id>/
    GET /api/content/<channel_id>/file/?contentnode=<node_id>
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from content.filters import parse_file_filter, parse_node_filter
from content.selectors import (
    file_cards,
    find_node,
    list_files,
    list_nodes,
    node_cards,
    node_detail,
)
from content.serializers import (
    ChannelFileSerializer,
    ContentNodeDetailSerializer,
    ContentNodeSerializer,
)

NODE_NOT_FOUND = "No such node in this channel. List them at /api/content/<channel_id>/contentnode/."


class ContentNodeListView(GenericAPIView):
    """A page of nodes, filtered by `parent`, `kind` and `search`."""

    serializer_class = ContentNodeSerializer

    def get(self, request: Request, channel_id: str) -> Response:
        nodes = list_nodes(parse_node_filter(request.query_params))
        page = self.paginate_queryset(nodes)
        assert page is not None, "the content API is always paginated"
        return self.get_paginated_response(
            ContentNodeSerializer(node_cards(page), many=True).data)


class ContentNodeDetailView(GenericAPIView):
    """One node with its files, ancestors and rendering."""

    serializer_class = ContentNodeDetailSerializer

    def get(self, request: Request, channel_id: str, node_id: str) -> Response:
        node = find_node(node_id)
        if node is None:
            raise NotFound(NODE_NOT_FOUND)
        return Response(ContentNodeDetailSerializer(node_detail(node)).data)


class ChannelFileListView(GenericAPIView):
    """A page of the channel's files, optionally one node's (`contentnode`)."""

    serializer_class = ChannelFileSerializer

    def get(self, request: Request, channel_id: str) -> Response:
        files = list_files(parse_file_filter(request.query_params))
        page = self.paginate_queryset(files)
        assert page is not None, "the content API is always paginated"
        return self.get_paginated_response(
            ChannelFileSerializer(file_cards(page), many=True).data)
