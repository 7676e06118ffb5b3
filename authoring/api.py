"""The drafts API of the course-creation wizard (INTERFACE.md, authoring).

    GET    /api/drafts/                     -> the user's drafts (admins: all), newest first
    POST   /api/drafts/                     {} or {"channel_id"} -> 201 draft
    GET    /api/drafts/<id>/                -> draft with its files and what stops publishing
    PATCH  /api/drafts/<id>/                {name, version_label, ...} -> 200 draft
    DELETE /api/drafts/<id>/                -> 204 (cancel: the draft and its files are deleted)
    POST   /api/drafts/<id>/publish/        -> 201 {channel_id, version} | 409 | 400

Only authors and admins; a draft of someone else answers 404. Errors are `{"detail"}` with the
domain error's status; invalid fields add `errors` {field: what is wrong}.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django.utils.translation import gettext

from accounts.permissions import IsAuthorOrAdmin
from authoring.cancel import cancel_draft
from authoring.drafts import create_draft, get_draft, update_draft
from authoring.errors import AuthoringError, InvalidDraftError
from authoring.models import Draft
from authoring.publish import publish_draft
from authoring.serializers import draft_json
from kolibri_like.pagination import PageNumberPagination


class AuthoringAPIError(APIException):
    def __init__(self, error: Exception) -> None:
        self.status_code = getattr(error, "http_status", 400)
        super().__init__(detail=str(error))


def error_response(error: AuthoringError) -> Response:
    body: dict[str, Any] = {"detail": str(error)}
    if isinstance(error, InvalidDraftError):
        body = {"detail": gettext("The draft has invalid or missing fields; see `errors`."),
                "errors": error.errors}
    if getattr(error, "problems", None):
        body["problems"] = error.problems  # each problem of a refused archive, in plain words
    return Response(body, status=error.http_status)


class AuthoringView(APIView):
    permission_classes = [IsAuthorOrAdmin]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, AuthoringError):
            return error_response(exc)
        if hasattr(exc, "http_status") and hasattr(exc, "exit_code"):
            # Channel and storage errors met while publishing (busy channel: 409 ...).
            exc = AuthoringAPIError(exc)
        return super().handle_exception(exc)


class DraftListView(AuthoringView):
    def get(self, request: Request) -> Response:
        drafts = Draft.objects.visible_to(request.user).select_related("owner")
        state = request.query_params.get("state")
        if state in Draft.State.values:
            drafts = drafts.filter(state=state)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(drafts, request, view=self)
        return paginator.get_paginated_response(
            [draft_json(draft, with_files=False) for draft in page or []])

    def post(self, request: Request) -> Response:
        payload = request.data if isinstance(request.data, dict) else {}
        unknown = sorted(set(payload) - {"channel_id"})
        if unknown:
            raise InvalidDraftError({name: "is not accepted here: create the draft, then "
                                     "PATCH its fields" for name in unknown})
        draft = create_draft(request.user, channel_id=payload.get("channel_id"))
        return Response(draft_json(draft), status=status.HTTP_201_CREATED)


class DraftDetailView(AuthoringView):
    def get(self, request: Request, draft_id: str) -> Response:
        return Response(draft_json(get_draft(request.user, draft_id)))

    def patch(self, request: Request, draft_id: str) -> Response:
        return Response(draft_json(update_draft(request.user, draft_id, request.data)))

    def delete(self, request: Request, draft_id: str) -> Response:
        cancel_draft(request.user, draft_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DraftPublishView(AuthoringView):
    def post(self, request: Request, draft_id: str) -> Response:
        result = publish_draft(request.user, draft_id)
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)
