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
from rest_framework.views import APIView

from django.utils.translation import gettext_lazy

from content.filters import parse_file_filter, parse_node_filter
from content.selectors import (
    file_cards,
    find_node,
    list_files,
    list_nodes,
    node_cards,
    node_detail,
)
from content.serializers import channel_file_json, node_detail_json, node_json

NODE_NOT_FOUND = gettext_lazy("No such node in this channel. List them at "
                              "/api/content/<channel_id>/contentnode/.")


class ContentNodeListView(GenericAPIView):
    """A page of nodes, filtered by `parent`, `kind` and `search`."""

    def get(self, request: Request, channel_id: str) -> Response:
        nodes = list_nodes(parse_node_filter(request.query_params))
        page = self.paginate_queryset(nodes)
        assert page is not None, "the content API is always paginated"
        return self.get_paginated_response([node_json(card) for card in node_cards(page)])


class ContentNodeDetailView(APIView):
    """One node with its files, ancestors and rendering."""

    def get(self, request: Request, channel_id: str, node_id: str) -> Response:
        node = find_node(node_id)
        if node is None:
            raise NotFound(NODE_NOT_FOUND)
        return Response(node_detail_json(node_detail(node)))


class ChannelFileListView(GenericAPIView):
    """A page of the channel's files, optionally one node's (`contentnode`)."""

    def get(self, request: Request, channel_id: str) -> Response:
        files = list_files(parse_file_filter(request.query_params))
        page = self.paginate_queryset(files)
        assert page is not None, "the content API is always paginated"
        return self.get_paginated_response(
            [channel_file_json(card) for card in file_cards(page)])
