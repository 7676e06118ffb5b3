"""`GET /content/databases/<channel_id>.sqlite3`: the current channel database, for LAN peers.

The file is opened before the response starts and streamed from that open handle, so a publish
or revert that renames a new version into place meanwhile does not change the bytes of a download
in progress: the peer gets one whole version. A peer resumes a broken download with `Range` and
`If-Range: <ETag>`; the ETag names the open file (inode, size, mtime), so once another version is
served the peer gets the whole new file instead of a tail of it. The peer verifies the file as
any import does. Only registered, servable channels are offered; anything else is a 404 without touching the
filesystem beyond the registered path (the routing middleware checks the id first, and this view
checks again because it builds a path from it).
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView

import os

from django.http import FileResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext

from channels.selectors import is_channel_servable
from routers.ids import is_valid_channel_id
from routers.registry import channel_database_path
from storage.ranges import ByteRange, UnsatisfiableRange, if_range_allows_range, parse_range_header
from storage.views import FileRangeReader

DATABASE_NOT_FOUND = "No such channel on this server. See /api/channels/ for the installed ones."
SQLITE_CONTENT_TYPE = "application/vnd.sqlite3"


def database_etag(handle_stat: os.stat_result) -> str:
    return f'"db-{handle_stat.st_ino}-{handle_stat.st_size}-{handle_stat.st_mtime_ns}"'


class ChannelDatabaseView(APIView):
    def get(self, request: Request, channel_id: str) -> HttpResponseBase:
        if not is_valid_channel_id(channel_id) or not is_channel_servable(channel_id):
            raise NotFound(DATABASE_NOT_FOUND)
        try:
            handle = open(channel_database_path(channel_id), "rb")
        except FileNotFoundError:
            raise NotFound(DATABASE_NOT_FOUND) from None
        stat = os.fstat(handle.fileno())
        etag = database_etag(stat)
        decision = None
        if if_range_allows_range(request.headers.get("If-Range"), etag):
            decision = parse_range_header(request.headers.get("Range"), stat.st_size)
        response: HttpResponseBase
        if isinstance(decision, UnsatisfiableRange):
            handle.close()
            response = JsonResponse(
                {"detail": gettext("The requested range is outside the file.")}, status=416)
            response["Content-Range"] = decision.content_range(stat.st_size)
        elif isinstance(decision, ByteRange):
            response = StreamingHttpResponse(
                FileRangeReader(handle, decision.start, decision.length), status=206,
                content_type=SQLITE_CONTENT_TYPE)
            response["Content-Range"] = decision.content_range(stat.st_size)
            response["Content-Length"] = str(decision.length)
        else:
            response = FileResponse(handle, as_attachment=True,
                                    filename=f"{channel_id}.sqlite3",
                                    content_type=SQLITE_CONTENT_TYPE)
        response["ETag"] = etag
        response["Accept-Ranges"] = "bytes"
        # The same id names every version: a cached copy would be an old version.
        response["Cache-Control"] = "no-cache"
        return response
