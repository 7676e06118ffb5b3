"""The learning API (issue 5): questions of a test, attempts, progress and certificates.

Views validate, call one service or selector, and serialize. Everything private is filtered to
the signed-in user, so someone else's attempt, progress or certificate is simply not found
(404). Guests may read a test's questions when guest access is on (they can browse and play),
but taking a test or saving progress needs an account: 401 with a sentence saying so.

    GET  /api/content/<channel_id>/contentnode/<node_id>/questions/
    GET  /api/content/<channel_id>/contentnode/<node_id>/questions/image/<name>/
    POST /api/attempts/            {channel_id, node_id, answers, started_at?}
    GET  /api/attempts/?channel_id=&node_id=
    GET  /api/progress/?channel_id=      POST /api/progress/ {channel_id, node_id, progress, ended?}
    GET  /api/certificates/        GET /api/certificates/<id>/      GET /api/certificates/<id>/pdf/
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext, gettext_lazy
from rest_framework.exceptions import APIException, NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from learning.attempts import attempts_used, submit_attempt
from learning.certificates import read_certificate_pdf
from learning.errors import InvalidLearningInputError, LearningError
from learning.models import Attempt
from learning.progress import record_progress
from learning.questions import NOT_FOUND as QUESTIONS_NOT_FOUND
from learning.questions import IMAGE_CONTENT_TYPES, load_exercise, public_questions
from learning.selectors import course_summaries, node_progress, user_certificates
from learning.serializers import (
    attempt_json,
    certificate_json,
    node_progress_json,
)
from routers.ids import is_valid_channel_id

_IMAGE_NAME_RE = re.compile(r"[0-9A-Za-z_-]{1,64}\.(png|jpg|jpeg|gif|svg)")
_NODE_ID_RE = re.compile(r"[0-9a-f]{32}")
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CERTIFICATE_NOT_FOUND = gettext_lazy("No such certificate among yours. See /api/certificates/.")


class SignInRequiredError(APIException):
    status_code = 401
    default_detail = gettext_lazy("Sign in to take tests and keep your progress: guests can "
                                  "browse and play, but nothing is saved for them.")
    default_code = "not_authenticated"


class IsSignedInLearner(BasePermission):
    """Any signed-in, active account: admins and authors may take courses too."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


class LearningErrorsMixin:
    """Service errors become `{"detail"}` with their status; guests get a sentence, not 403."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, LearningError):
            return Response({"detail": str(exc.detail)}, status=exc.http_status)
        return super().handle_exception(exc)  # type: ignore[misc]

    def permission_denied(self, request: Request, message: str | None = None,
                          code: str | None = None) -> None:
        if not (request.user and request.user.is_authenticated):
            raise SignInRequiredError()
        super().permission_denied(request, message, code)  # type: ignore[misc]


def _url_node_id(node_id: str) -> str:
    # In a URL a malformed id is an address that does not exist: 404, as in the content API.
    if not _NODE_ID_RE.fullmatch(node_id):
        raise NotFound(QUESTIONS_NOT_FOUND)
    return node_id


def _base_url(request: Request) -> str:
    # The address the learner reached us by (Django checked the host against ALLOWED_HOSTS).
    return request.build_absolute_uri("/")


def _channel_filter(request: Request) -> str | None:
    channel_id = request.query_params.get("channel_id")
    if channel_id is None:
        return None
    if not is_valid_channel_id(channel_id):
        raise InvalidLearningInputError(
            gettext("channel_id must be a channel id (32 lowercase hex)."))
    return channel_id


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise InvalidLearningInputError(gettext("Send a JSON object."))
    return request.data


class QuestionsView(LearningErrorsMixin, APIView):
    """A test's questions without their answers, its settings, and the learner's attempts."""

    def get(self, request: Request, channel_id: str, node_id: str) -> Response:
        exercise = load_exercise(channel_id, _url_node_id(node_id))
        return Response({
            "node_id": exercise.node_id, "channel_id": exercise.channel_id,
            "content_id": exercise.content_id, "version": exercise.version,
            "title": exercise.title, "pass_mark": float(exercise.pass_mark),
            "display": exercise.display, "max_attempts": exercise.max_attempts,
            "attempts_used": attempts_used(request.user, channel_id, node_id),
            "questions": public_questions(exercise)})


class QuestionImageView(LearningErrorsMixin, APIView):
    """An image that a question or a choice shows, from inside the test's file."""

    def get(self, request: Request, channel_id: str, node_id: str, name: str) -> HttpResponse:
        if not _IMAGE_NAME_RE.fullmatch(name):
            raise NotFound(gettext("No such image in this test."))
        data = load_exercise(channel_id, _url_node_id(node_id)).image(name)
        if data is None:
            raise NotFound(gettext("No such image in this test."))
        extension = name.rsplit(".", 1)[1]
        response = HttpResponse(data, content_type=IMAGE_CONTENT_TYPES[extension])
        response["Cache-Control"] = "max-age=3600"
        # An SVG may carry scripts: shown as an image it cannot run them; opened directly, the
        # sandbox stops them.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class AttemptListView(LearningErrorsMixin, GenericAPIView):
    permission_classes = [IsSignedInLearner]

    def get(self, request: Request) -> Response:
        attempts = Attempt.objects.filter(user=request.user).order_by("-submitted_at", "id")
        channel_id = _channel_filter(request)
        if channel_id is not None:
            attempts = attempts.filter(channel_id=channel_id)
        node_id = request.query_params.get("node_id")
        if node_id is not None:
            if not _NODE_ID_RE.fullmatch(node_id):
                raise InvalidLearningInputError(
                    gettext("node_id must be a node id (32 lowercase hex)."))
            attempts = attempts.filter(node_id=node_id)
        page = self.paginate_queryset(attempts)
        assert page is not None
        return self.get_paginated_response([attempt_json(attempt) for attempt in page])

    def post(self, request: Request) -> Response:
        body = _body(request)
        outcome = submit_attempt(request.user, body.get("channel_id"), body.get("node_id"),
                                 body.get("answers"), started_at=body.get("started_at"),
                                 verify_base_url=_base_url(request))
        certificate = outcome.certificate
        return Response({**attempt_json(outcome.attempt),
                         "attempts_used": outcome.attempts_used,
                         "max_attempts": outcome.max_attempts,
                         "certificate": certificate_json(certificate) if certificate else None},
                        status=201)


class ProgressView(LearningErrorsMixin, GenericAPIView):
    permission_classes = [IsSignedInLearner]

    def get(self, request: Request) -> Response:
        channel_id = _channel_filter(request)
        page = self.paginate_queryset(node_progress(request.user, channel_id))
        assert page is not None
        response = self.get_paginated_response([node_progress_json(row) for row in page])
        response.data["courses"] = course_summaries(request.user, channel_id)
        return response

    def post(self, request: Request) -> Response:
        body = _body(request)
        ended = body.get("ended", False)
        if not isinstance(ended, bool):
            raise InvalidLearningInputError(gettext("ended must be true or false."))
        update = record_progress(request.user, body.get("channel_id"), body.get("node_id"),
                                 body.get("progress"), ended=ended,
                                 verify_base_url=_base_url(request))
        return Response(node_progress_json(update.progress))


class CertificateListView(LearningErrorsMixin, GenericAPIView):
    """The signed-in user's own certificates (authors see their learners' in the reports)."""

    permission_classes = [IsSignedInLearner]

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(user_certificates(request.user))
        assert page is not None
        return self.get_paginated_response([certificate_json(item) for item in page])


def _own_certificate(request: Request, certificate_id: str, *, admin_may: bool = False):
    if not _UUID_RE.fullmatch(certificate_id):
        raise NotFound(CERTIFICATE_NOT_FOUND)
    from learning.models import Certificate

    certificates = Certificate.objects.all()
    if not (admin_may and getattr(request.user, "is_admin", False)):
        certificates = certificates.filter(user=request.user)
    certificate = certificates.filter(id=certificate_id).first()
    if certificate is None:
        raise NotFound(CERTIFICATE_NOT_FOUND)
    return certificate


class CertificateDetailView(LearningErrorsMixin, APIView):
    permission_classes = [IsSignedInLearner]

    def get(self, request: Request, certificate_id: str) -> Response:
        return Response(certificate_json(_own_certificate(request, certificate_id,
                                                          admin_may=True)))


class CertificatePdfView(LearningErrorsMixin, APIView):
    """The stored PDF, the same bytes every time; admins may fetch any (support)."""

    permission_classes = [IsSignedInLearner]

    def get(self, request: Request, certificate_id: str) -> HttpResponse:
        certificate = _own_certificate(request, certificate_id, admin_may=True)
        data = read_certificate_pdf(certificate)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="certificate-{certificate.code}.pdf"')
        response["ETag"] = f'"{certificate.checksum}"'
        response["Cache-Control"] = "private, no-transform"
        response["X-Content-Type-Options"] = "nosniff"
        return response
