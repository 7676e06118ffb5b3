"""`GET /content/databases/<channel_id>.sqlite3`: the current channel database, for LAN peers.

The file is opened before the response starts and streamed from that open handle, so a publish
or revert that renames a new version into place meanwhile does not change the bytes of a download
in progress: the peer gets one whole version. The peer verifies the file as any import does.
Only registered, servable channels are offered; anything else is a 404 without touching the
filesystem beyond the registered path (the routing middleware checks the id first, and this view
checks again because it builds a path from it).
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView

from django.http import FileResponse

from channels.selectors import is_channel_servable
from routers.ids import is_valid_channel_id
from routers.registry import channel_database_path

DATABASE_NOT_FOUND = "No such channel on this server. See /api/channels/ for the installed ones."
SQLITE_CONTENT_TYPE = "application/vnd.sqlite3"


class ChannelDatabaseView(APIView):
    def get(self, request: Request, channel_id: str) -> FileResponse:
        if not is_valid_channel_id(channel_id) or not is_channel_servable(channel_id):
            raise NotFound(DATABASE_NOT_FOUND)
        try:
            handle = open(channel_database_path(channel_id), "rb")
        except FileNotFoundError:
            raise NotFound(DATABASE_NOT_FOUND) from None
        response = FileResponse(handle, as_attachment=True,
                                filename=f"{channel_id}.sqlite3",
                                content_type=SQLITE_CONTENT_TYPE)
        # The same id names every version: a cached copy would be an old version.
        response["Cache-Control"] = "no-cache"
        return response
