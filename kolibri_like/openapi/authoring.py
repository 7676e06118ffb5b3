"""The authoring API: drafts, publishing, and a draft's files (multipart or tus 1.0 uploads)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from kolibri_like.openapi.pieces import (
    PAGE_PARAMETERS,
    document,
    errors,
    header,
    many,
    page_of,
    query,
    shape,
)

DRAFT_FILE_FIELDS: dict[str, Any] = {
    "id": serializers.UUIDField(),
    "name": serializers.CharField(),
    "description": serializers.CharField(),
    "topic": serializers.CharField(),
    "position": serializers.IntegerField(),
    "usage": serializers.CharField(help_text="resource, subtitles, ..."),
    "file_type": serializers.CharField(),
    "extension": serializers.CharField(),
    "size": serializers.IntegerField(),
    "received": serializers.IntegerField(help_text="Bytes received so far (tus)."),
    "state": serializers.CharField(),
    "progress": serializers.IntegerField(help_text="0-100"),
    "error": serializers.CharField(),
    "checksum": serializers.CharField(allow_null=True),
    "formats": serializers.ListField(child=serializers.CharField(),
                                     help_text="Encoded video formats: mp4, webm, ogv."),
}
DraftFile = shape("DraftFile", DRAFT_FILE_FIELDS)
DRAFT_FIELDS: dict[str, Any] = {
    "id": serializers.UUIDField(),
    "channel_id": serializers.CharField(allow_null=True),
    "base_version": serializers.IntegerField(allow_null=True),
    "owner": serializers.CharField(allow_null=True),
    "name": serializers.CharField(),
    "version_label": serializers.CharField(),
    "description": serializers.CharField(),
    "topics": serializers.ListField(child=serializers.JSONField()),
    "require_videos": serializers.BooleanField(),
    "test_sets": serializers.JSONField(),
    "step": serializers.CharField(),
    "state": serializers.CharField(),
    "published_version": serializers.IntegerField(allow_null=True),
    "awaiting_encodes": serializers.BooleanField(),
    "created_at": serializers.DateTimeField(),
    "updated_at": serializers.DateTimeField(),
}
DraftSummary = shape("DraftSummary", DRAFT_FIELDS)
Draft = shape("Draft", {
    **DRAFT_FIELDS, "files": many(DraftFile),
    "publish_problems": serializers.DictField(child=serializers.JSONField(),
                                              help_text="What stops publishing, by field."),
})
DraftChange = shape("DraftChange", {
    "name": serializers.CharField(required=False),
    "version_label": serializers.CharField(required=False),
    "description": serializers.CharField(required=False),
    "topics": serializers.ListField(child=serializers.JSONField(), required=False),
    "require_videos": serializers.BooleanField(required=False),
    "test_sets": serializers.JSONField(required=False),
    "step": serializers.CharField(required=False),
})
AUTHOR_ERRORS = (401, 403, 404)

document("authoring.api.DraftListView",
         get=extend_schema(summary="Your drafts (admins: all), newest first",
                           operation_id="api_drafts_list",
                           parameters=[query("state", "Only drafts in this state."),
                                       *PAGE_PARAMETERS],
                           responses={200: page_of("PaginatedDraftList", many(DraftSummary)),
                                      **errors(401, 403)}),
         post=extend_schema(summary="Start a draft, empty or from a channel you own",
                            request=shape("DraftCreate", {
                                "channel_id": serializers.CharField(required=False)}),
                            responses={201: Draft, **errors(400, 401, 403, 404, 409)}))
document("authoring.api.DraftDetailView",
         get=extend_schema(summary="A draft with its files and what stops publishing",
                           responses={200: Draft, **errors(*AUTHOR_ERRORS)}),
         patch=extend_schema(summary="Change a draft's fields", request=DraftChange,
                             responses={200: Draft, **errors(400, *AUTHOR_ERRORS, 409)}),
         delete=extend_schema(summary="Cancel a draft: it and its files are deleted",
                              responses={204: None, **errors(*AUTHOR_ERRORS, 409)}))
document("authoring.api.DraftPublishView", post=extend_schema(
    summary="Publish a draft as the channel's next version",
    request=None,
    responses={201: shape("PublishResult", {
        "channel_id": serializers.CharField(), "version": serializers.IntegerField(),
        "waiting_videos": serializers.JSONField()}), **errors(400, *AUTHOR_ERRORS, 409)}))

TUS_RESUMABLE = header("Tus-Resumable", "`1.0.0`: makes the request a tus one.")
TUS_RESPONSE = header("Tus-Resumable", "`1.0.0` on every tus answer.", response=True)
DraftFileUpload = shape("DraftFileUpload", {
    "file": serializers.FileField(),
    "description": serializers.CharField(required=False),
    "topic": serializers.CharField(required=False),
    "usage": serializers.CharField(required=False, help_text="resource (default), subtitles"),
})
DraftFileChange = shape("DraftFileChange", {
    "description": serializers.CharField(required=False),
    "topic": serializers.CharField(required=False),
    "name": serializers.CharField(required=False),
    "position": serializers.IntegerField(required=False),
})
document("authoring.api_files.DraftFileListView",
         get=extend_schema(summary="A draft's files", operation_id="api_drafts_files_list",
                           responses={200: page_of("DraftFileList", many(DraftFile)),
                                      **errors(*AUTHOR_ERRORS)}),
         post=extend_schema(
             summary="Upload a file: multipart, or start a resumable tus upload",
             description="Without `Tus-Resumable`: a multipart upload of the whole file "
                         "(`file`, `description`, `topic`, `usage`). With `Tus-Resumable: "
                         "1.0.0`, `Upload-Length` and `Upload-Metadata` (base64 `filename`, "
                         "`description`, `topic`, `usage`) and no body: tus creation; send the "
                         "bytes with PATCH to the `Location` answered. `OPTIONS` answers 204 "
                         "with `Tus-Version`, `Tus-Extension` (creation,termination) and "
                         "`Tus-Max-Size`.",
             request={"multipart/form-data": DraftFileUpload},
             parameters=[
                 TUS_RESUMABLE,
                 header("Upload-Length", "tus: the file's size in bytes."),
                 header("Upload-Metadata", "tus: comma-separated `key base64(value)` pairs; "
                                           "`filename` is required."),
                 header("Location", "tus: the new file's URL, for PATCH and HEAD.",
                        response=[201]),
                 TUS_RESPONSE],
             responses={201: DraftFile, **errors(400, *AUTHOR_ERRORS, 409, 412, 413)}))
document("authoring.api_files.DraftFileDetailView",
         get=extend_schema(summary="One file of a draft",
                           responses={200: DraftFile, **errors(*AUTHOR_ERRORS)}),
         patch=extend_schema(
             summary="Send a tus chunk, or change the file's fields",
             description="A tus chunk: `Content-Type: application/offset+octet-stream`, "
                         "`Tus-Resumable: 1.0.0` and `Upload-Offset`; answers 204 with the new "
                         "`Upload-Offset`. `HEAD` (with `Tus-Resumable`) answers the current "
                         "`Upload-Offset` and `Upload-Length`. A JSON body changes "
                         "`description`, `topic`, `name` or `position` and answers 200.",
             request={"application/json": DraftFileChange,
                      "application/offset+octet-stream": OpenApiTypes.BINARY},
             parameters=[TUS_RESUMABLE,
                         header("Upload-Offset", "tus: where this chunk starts."),
                         header("Upload-Offset", "tus: where the next chunk starts.",
                                response=[204]),
                         TUS_RESPONSE],
             responses={200: DraftFile, 204: None,
                        **errors(400, *AUTHOR_ERRORS, 409, 412, 413, 415)}),
         delete=extend_schema(summary="Remove a file (tus termination too)",
                              parameters=[TUS_RESUMABLE],
                              responses={204: None, **errors(*AUTHOR_ERRORS, 412)}))
