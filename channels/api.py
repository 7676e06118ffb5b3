"""The channel registry API: which channels this server serves, and their administration
(INTERFACE.md).

These read the registry in the default database, not a channel file, so the URL keyword is `pk`
and not `channel_id`: the routing middleware (which opens a channel's database for URLs naming
`channel_id`) stays out of it, and the admin endpoints on the same path (versions, revert,
delete) still reach a channel whose file is rejected or missing.

    GET    /api/channels/                       -> paginated servable channels
    GET    /api/channels/<channel_id>/          -> one servable channel, else 404
    DELETE /api/channels/<channel_id>/          -> 204 (admins, or the author who owns it)
    GET    /api/channels/<channel_id>/versions/ -> paginated versions, newest first
    POST   /api/channels/<channel_id>/revert/   {"version": 2} -> 200 the channel

Channels are public to read, so for the admin actions anyone signed in learns that a channel
exists: an unknown one is 404, one they may not manage is 403. Domain errors answer
`{"detail": ...}` with their `http_status` (busy 409, unknown version 404).
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from django.utils.translation import gettext_lazy

from accounts.permissions import IsSignedIn, owns_or_admin
from channels.errors import ChannelError
from channels.models import Channel
from channels.selectors import servable_channels
from channels.serializers import ChannelSerializer, ChannelVersionSerializer, RevertSerializer
from channels.versions import delete_channel, revert_channel
from routers.ids import is_valid_channel_id

CHANNEL_NOT_FOUND = gettext_lazy("No such channel on this server. See /api/channels/ for the "
                                 "installed ones.")
NOT_YOURS = gettext_lazy("Only an admin or the author who owns this channel may do this.")


class ChannelAPIError(APIException):
    """A channels domain error as `{"detail": message}` with the error's status."""

    def __init__(self, error: ChannelError) -> None:
        self.status_code = error.http_status
        super().__init__(detail=str(error))


def managed_channel(request: Request, pk: str) -> Channel:
    """The registered channel `pk` (in any state), if the user may manage it."""
    channel = Channel.objects.filter(id=pk).first() if is_valid_channel_id(pk) else None
    if channel is None:
        raise NotFound(CHANNEL_NOT_FOUND)
    if not owns_or_admin(request.user, channel.owner_id):
        raise PermissionDenied(NOT_YOURS)
    return channel


class ChannelListView(GenericAPIView):
    serializer_class = ChannelSerializer

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(servable_channels())
        assert page is not None, "the channel list is always paginated"
        return self.get_paginated_response(ChannelSerializer(page, many=True).data)


class ChannelDetailView(GenericAPIView):
    serializer_class = ChannelSerializer

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "DELETE":
            return [IsSignedIn()]
        return super().get_permissions()

    def get(self, request: Request, pk: str) -> Response:
        channel = None
        if is_valid_channel_id(pk):
            channel = Channel.objects.servable().filter(id=pk).first()
        if channel is None:
            raise NotFound(CHANNEL_NOT_FOUND)
        return Response(ChannelSerializer(channel).data)

    def delete(self, request: Request, pk: str) -> Response:
        channel = managed_channel(request, pk)
        try:
            delete_channel(channel.id)
        except ChannelError as error:
            raise ChannelAPIError(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelVersionListView(GenericAPIView):
    permission_classes = [IsSignedIn]
    serializer_class = ChannelVersionSerializer

    def get(self, request: Request, pk: str) -> Response:
        channel = managed_channel(request, pk)
        versions = channel.versions.select_related("created_by").order_by("-number")
        page = self.paginate_queryset(versions)
        assert page is not None, "the version list is always paginated"
        context: dict[str, Any] = {"current_version": channel.version
                                   if channel.state == Channel.State.AVAILABLE else None}
        return self.get_paginated_response(
            ChannelVersionSerializer(page, many=True, context=context).data)


class ChannelRevertView(GenericAPIView):
    permission_classes = [IsSignedIn]
    serializer_class = RevertSerializer

    def post(self, request: Request, pk: str) -> Response:
        channel = managed_channel(request, pk)
        serializer = RevertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            channel = revert_channel(channel.id, serializer.validated_data["version"])
        except ChannelError as error:
            raise ChannelAPIError(error) from None
        return Response(ChannelSerializer(channel).data)
