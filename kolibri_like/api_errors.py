"""Every API error is `{"detail": "<what to do>"}` with a stable status (INTERFACE.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, JsonResponse
from django.urls import Resolver404
from django.utils.translation import gettext
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, NotAuthenticated):
        from accounts.permissions import guest_access_allowed

        reason = (gettext("this needs an account") if guest_access_allowed()
                  else gettext("this server does not allow guests"))
        exc = NotAuthenticated(gettext("Sign in first: %(reason)s. Scripts send "
                                       "`Authorization: Token <key>`.") % {"reason": reason})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and set(response.data) == {"detail"}:
        return response
    # Field errors: keep them, and add one sentence a person can act on.
    response.data = {"detail": gettext("The request has invalid fields; see `errors`."),
                     "errors": response.data}
    return response


def json_not_found(request, exception=None) -> JsonResponse:
    detail = gettext("Not found. Check the address.")
    # Our own Http404s carry a sentence for the user; the resolver's carry its URL patterns.
    if isinstance(exception, Http404) and not isinstance(exception, Resolver404) \
            and exception.args and isinstance(exception.args[0], str):
        detail = exception.args[0]
    return JsonResponse({"detail": detail}, status=404)


def json_bad_request(request, exception=None) -> JsonResponse:
    """A request Django refused before any view ran (too many files or fields in one form,
    a body over the size Django parses): say which limit, in the API's shape."""
    from django.core.exceptions import (
        DisallowedHost,
        RequestDataTooBig,
        TooManyFieldsSent,
        TooManyFilesSent,
    )

    detail = gettext("The request is malformed; check what you send.")
    if isinstance(exception, DisallowedHost):
        detail = gettext("This server does not answer to that host name: use its address, or "
                         "add the name to ALLOWED_HOSTS.")
    elif isinstance(exception, TooManyFilesSent):
        detail = gettext("Too many files in one request: send at most %(count)s at a time.") \
            % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
    elif isinstance(exception, TooManyFieldsSent):
        detail = gettext("Too many fields in one request: send at most %(count)s.") \
            % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
    elif isinstance(exception, RequestDataTooBig):
        detail = gettext("The request body is too large; upload big files resumably (tus).")
    return JsonResponse({"detail": detail}, status=400)


def json_server_error(request) -> JsonResponse:
    return JsonResponse(
        {"detail": gettext("The server failed; the admin finds the reason in the server log.")},
        status=500
    )
