"""ContentDBRoutingMiddleware: a request that names a channel in its URL reads that channel only.

The URL's `channel_id` keyword is checked (32 lowercase hex, else 404, never a path), the channel
must be registered and servable (the gate named by `CONTENT_DB_CHANNEL_GATE`), its connection is
made current, and the active database is set for the view and for a streaming body, then reset
when the request ends, whatever happened.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any, AsyncIterator, Callable, Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.module_loading import import_string

from routers.context import reset_active_content_database, set_active_content_database
from routers.errors import ChannelDatabaseNotFoundError
from routers.ids import is_valid_channel_id
from routers.registry import activate_channel_connection, close_released_connections

CHANNEL_URL_KWARG = "channel_id"
_TOKEN_ATTRIBUTE = "_content_database_token"


NOT_FOUND_MESSAGE = "No such channel on this server. See /api/channels/ for the installed ones."


def _not_found(channel_id: object) -> HttpResponse:
    # Raised, not answered here: the project's 404 handler answers JSON under /api/ and
    # /content/, and a page for people elsewhere.
    raise Http404(NOT_FOUND_MESSAGE)


def _channel_gate() -> Callable[[str], bool]:
    dotted = getattr(settings, "CONTENT_DB_CHANNEL_GATE", None)
    return import_string(dotted) if dotted else (lambda channel_id: True)


class ContentDBRoutingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.is_servable = _channel_gate()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        close_released_connections()
        try:
            response = self.get_response(request)
        finally:
            token: Token[str | None] | None = getattr(request, _TOKEN_ATTRIBUTE, None)
            if token is not None:
                channel_id = token.var.get()
                reset_active_content_database(token)
                setattr(request, _TOKEN_ATTRIBUTE, None)
            else:
                channel_id = None
        if channel_id is not None and isinstance(response, StreamingHttpResponse):
            if response.is_async:
                # An async body (ASGI): iterating it with `iter()` would fail.
                response.streaming_content = _astream_in_channel(
                    channel_id, response.streaming_content)
            else:
                response.streaming_content = _stream_in_channel(
                    channel_id, response.streaming_content)
        return response

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any,
                     view_kwargs: dict[str, Any]) -> HttpResponse | None:
        if CHANNEL_URL_KWARG not in view_kwargs:
            return None
        channel_id = view_kwargs[CHANNEL_URL_KWARG]
        if not is_valid_channel_id(channel_id) or not self.is_servable(channel_id):
            return _not_found(channel_id)
        try:
            alias = activate_channel_connection(channel_id)
        except ChannelDatabaseNotFoundError:
            return _not_found(channel_id)
        setattr(request, _TOKEN_ATTRIBUTE, set_active_content_database(alias))
        return None


def _stream_in_channel(channel_id: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Run each step of a streaming body with the request's channel active, and only then."""
    iterator = iter(chunks)
    while True:
        token = set_active_content_database(channel_id)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            reset_active_content_database(token)
        yield chunk


async def _astream_in_channel(channel_id: str,
                              chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The async twin of `_stream_in_channel`: the channel is active only while a chunk is made."""
    iterator = chunks.__aiter__()
    while True:
        token = set_active_content_database(channel_id)
        try:
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        finally:
            reset_active_content_database(token)
        yield chunk
