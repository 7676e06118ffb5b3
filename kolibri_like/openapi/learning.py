"""The learning API: tests and attempts, progress and course summaries, certificates."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from kolibri_like.openapi.pieces import (
    ANY_OBJECT,
    PAGE_FIELDS,
    PAGE_PARAMETERS,
    document,
    errors,
    many,
    query,
    shape,
)

ATTEMPT_FIELDS: dict[str, Any] = {
    "id": serializers.UUIDField(),
    "channel_id": serializers.CharField(), "node_id": serializers.CharField(),
    "content_id": serializers.CharField(), "version": serializers.IntegerField(),
    "answers": serializers.JSONField(), "results": serializers.JSONField(),
    "score": serializers.FloatField(), "passed": serializers.BooleanField(),
    "started_at": serializers.DateTimeField(allow_null=True),
    "submitted_at": serializers.DateTimeField(),
}
Attempt = shape("Attempt", ATTEMPT_FIELDS)
Certificate = shape("Certificate", {
    "id": serializers.UUIDField(), "channel_id": serializers.CharField(),
    "course_name": serializers.CharField(), "version": serializers.IntegerField(),
    "version_label": serializers.CharField(), "learner_name": serializers.CharField(),
    "server_name": serializers.CharField(), "issued_at": serializers.DateTimeField(),
    "code": serializers.CharField(), "state": serializers.CharField(),
    "pdf_url": serializers.CharField(), "verify_url": serializers.CharField(),
})
NodeProgress = shape("NodeProgress", {
    "channel_id": serializers.CharField(), "node_id": serializers.CharField(),
    "content_id": serializers.CharField(), "kind": serializers.CharField(),
    "progress": serializers.FloatField(help_text="0 to 1"),
    "completed": serializers.BooleanField(),
    "completed_at": serializers.DateTimeField(allow_null=True),
    "updated_at": serializers.DateTimeField(),
})
CourseSummary = shape("CourseSummary", {
    "channel_id": serializers.CharField(), "name": serializers.CharField(),
    "version": serializers.IntegerField(allow_null=True),
    "version_label": serializers.CharField(),
    "available": serializers.BooleanField(help_text="Whether the course is on this server."),
    "total_resources": serializers.IntegerField(allow_null=True),
    "completed_resources": serializers.IntegerField(allow_null=True),
    "progress": serializers.FloatField(help_text="0 to 1"),
    "tests_total": serializers.IntegerField(allow_null=True),
    "tests_passed": serializers.IntegerField(allow_null=True),
    "completed": serializers.BooleanField(),
    "certificate_id": serializers.UUIDField(allow_null=True),
})
SIGN_IN = (401,)
CHANNEL_FILTER = query("channel_id", "Only this channel (channel id).")

document("learning.api.QuestionsView", get=extend_schema(
    summary="A test's questions (without answers), its settings and your attempts",
    responses={200: shape("Questions", {
        "node_id": serializers.CharField(), "channel_id": serializers.CharField(),
        "content_id": serializers.CharField(), "version": serializers.IntegerField(),
        "title": serializers.CharField(), "pass_mark": serializers.FloatField(),
        "display": serializers.JSONField(), "max_attempts": serializers.IntegerField(
            allow_null=True), "attempts_used": serializers.IntegerField(),
        "questions": serializers.ListField(child=ANY_OBJECT)}), **errors(404)}))
document("learning.api.QuestionImageView", get=extend_schema(
    summary="An image a question shows",
    responses={(200, "image/*"): OpenApiTypes.BINARY, **errors(404)}))
document("learning.api.AttemptListView",
         get=extend_schema(summary="Your attempts, newest first",
                           parameters=[CHANNEL_FILTER, query("node_id", "Only this test.")],
                           responses={200: many(Attempt), **errors(400, *SIGN_IN)}),
         post=extend_schema(
             summary="Submit a test's answers",
             request=shape("AttemptSubmit", {
                 "channel_id": serializers.CharField(), "node_id": serializers.CharField(),
                 "answers": serializers.JSONField(),
                 "started_at": serializers.DateTimeField(required=False)}),
             responses={201: shape("AttemptOutcome", {
                 **ATTEMPT_FIELDS, "attempts_used": serializers.IntegerField(),
                 "max_attempts": serializers.IntegerField(allow_null=True),
                 "certificate": Certificate.__class__(allow_null=True)}),
                 **errors(400, *SIGN_IN, 404, 409)}))
document("learning.api.ProgressView",
         get=extend_schema(
             summary="Your progress per node, plus `courses` (one summary per course)",
             operation_id="api_progress_list", parameters=[CHANNEL_FILTER, *PAGE_PARAMETERS],
             responses={200: shape("PaginatedNodeProgressList", {
                 **PAGE_FIELDS, "results": many(NodeProgress),
                 "courses": many(CourseSummary)}), **errors(400, *SIGN_IN)}),
         post=extend_schema(
             summary="Record progress on a node",
             request=shape("ProgressUpdate", {
                 "channel_id": serializers.CharField(), "node_id": serializers.CharField(),
                 "progress": serializers.FloatField(help_text="0 to 1"),
                 "ended": serializers.BooleanField(required=False)}),
             responses={200: NodeProgress, **errors(400, *SIGN_IN, 404)}))
document("learning.api.CertificateListView", get=extend_schema(
    summary="Your certificates", responses={200: many(Certificate), **errors(*SIGN_IN)}))
document("learning.api.CertificateDetailView", get=extend_schema(
    summary="One of your certificates", responses={200: Certificate, **errors(*SIGN_IN, 404)}))
document("learning.api.CertificatePdfView", get=extend_schema(
    summary="A certificate's PDF (the same bytes every time)",
    responses={(200, "application/pdf"): OpenApiTypes.BINARY, **errors(*SIGN_IN, 404)}))
