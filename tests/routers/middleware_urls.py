"""Views that only the middleware tests need: one that fails, one that streams.

Both name `channel_id` in their URL, so the routing middleware handles them like the real API;
the real URLs are included too.
"""

from __future__ import annotations

from typing import Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.urls import include, path

from kolibri_like.urls import handler404, handler500  # noqa: F401 - the JSON error pages

from content.models import ContentNode
from routers.context import get_active_content_database


def failing_view(request: HttpRequest, channel_id: str) -> StreamingHttpResponse:
    ContentNode.objects.count()  # the channel is active here...
    raise RuntimeError("the view failed")  # ...and must not stay active after this


def streaming_view(request: HttpRequest, channel_id: str) -> StreamingHttpResponse:
    def body() -> Iterator[str]:
        # Runs after the view returned, while the server sends the body.
        for node in ContentNode.objects.order_by("lft")[:3]:
            yield f"{get_active_content_database()} {node.channel_id} {node.title}\n"

    return StreamingHttpResponse(body(), content_type="text/plain")


urlpatterns = [
    path("api/test/<str:channel_id>/fail/", failing_view),
    path("api/test/<str:channel_id>/stream/", streaming_view),
    path("", include("kolibri_like.urls")),
]
