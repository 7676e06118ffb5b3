"""The channel registry API: which channels this server serves (INTERFACE.md).

These read the registry in the default database, not a channel file, so the URL keyword is `pk`
and not `channel_id`: the routing middleware (which opens a channel's database for URLs naming
`channel_id`) stays out of it, and later admin endpoints on the same path (versions, revert,
delete) still reach a channel whose file is rejected or missing.

    GET /api/channels/                  -> paginated servable channels
    GET /api/channels/<channel_id>/     -> one servable channel, else 404
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from channels.models import Channel
from channels.selectors import servable_channels
from channels.serializers import ChannelSerializer
from routers.ids import is_valid_channel_id

CHANNEL_NOT_FOUND = "No such channel on this server. See /api/channels/ for the installed ones."


class ChannelListView(GenericAPIView):
    serializer_class = ChannelSerializer

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(servable_channels())
        assert page is not None, "the channel list is always paginated"
        return self.get_paginated_response(ChannelSerializer(page, many=True).data)


class ChannelDetailView(GenericAPIView):
    serializer_class = ChannelSerializer

    def get(self, request: Request, pk: str) -> Response:
        channel = None
        if is_valid_channel_id(pk):
            channel = Channel.objects.servable().filter(id=pk).first()
        if channel is None:
            raise NotFound(CHANNEL_NOT_FOUND)
        return Response(ChannelSerializer(channel).data)
