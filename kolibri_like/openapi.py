"""The OpenAPI description of the HTTP API (`/api/schema/`, Swagger UI at `/api/docs/`).

Most views answer plain dicts built by the apps' `*_json` functions (faster than DRF
serializers, see content/serializers.py), so drf-spectacular cannot guess their shapes. This
module describes them, from the outside, with one `OpenApiViewExtension` per view: the views
themselves stay untouched, and no app imports this module.

Importing it costs about 85 ms (drf-spectacular, PyYAML), so nothing imports it at start-up:
`kolibri_like/urls.py` routes to `schema_view` and `docs_view` by name, imported on the first
request, and SPECTACULAR_SETTINGS names `load` as a preprocessing hook, which makes
drf-spectacular import this module (registering the extensions) before it looks at any view,
also in `manage.py spectacular`.

    python manage.py spectacular --validate --fail-on-warn --file schema.yaml

When a view's JSON gains a field, add it to the shape here (INTERFACE.md lists the stable ones;
tests/kolibri_like/test_openapi.py compares the channel and node shapes with it).
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from accounts.permissions import GuestReadable
from accounts.serializers import (
    OwnPasswordSerializer,
    PasswordResetSerializer,
    UserCreateSerializer,
    UserImportSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from channels.serializers import ChannelSerializer, ChannelVersionSerializer, RevertSerializer
from jobs.serializers import JobSerializer

HEX_ID = "32 lowercase hex characters"
ANY_OBJECT = serializers.DictField(child=serializers.JSONField())

# -- Shared pieces ---------------------------------------------------------------------------


class AutoSchema(SpectacularAutoSchema):
    """REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS: drf-spectacular's, knowing our guest readers.

    `GuestReadable` lets anyone read while ALLOW_GUEST_ACCESS is on (the default), so reads
    it guards list "no credentials" (`{}`) beside the token and the session.
    """

    def get_auth(self) -> list[Any]:
        auths = super().get_auth()
        guest_readable = any(isinstance(permission, GuestReadable)
                             for permission in self.view.get_permissions())
        if guest_readable and self.method in SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths


def shape(name: str, fields: dict[str, Any], **kwargs: Any) -> Any:
    """A named JSON object (a schema component). DRF's serializer metaclass pops the fields
    from the dict it is given, so it gets a copy: the field dicts below are shared."""
    return inline_serializer(name, dict(fields), **kwargs)


Error = shape("Error", {"detail": serializers.CharField()})
FieldErrors = shape("FieldErrors", {
    "detail": serializers.CharField(),
    "errors": serializers.DictField(child=serializers.JSONField(), required=False,
                                    help_text="field name -> what is wrong"),
})

ERROR_TEXTS = {
    400: "Bad input: `{\"detail\"}`, with `errors` {field: problem} where fields are at fault.",
    401: "Not signed in: send a session cookie or `Authorization: Token <key>`.",
    403: "Signed in, but this role may not do this.",
    404: "Not found, or someone else's private object.",
    409: "Conflict: another operation on the same channel or draft is running, or it is done.",
    412: "tus: the `Tus-Resumable` header is missing or names another version.",
    413: "The upload is larger than the server accepts.",
    415: "tus: a chunk must be `application/offset+octet-stream`.",
    416: "The requested byte range is outside the file.",
    503: "Unhealthy or not ready.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """`{"detail"}` error responses for the given statuses (400 also lists field errors)."""
    return {code: OpenApiResponse(FieldErrors if code == 400 else Error,
                                  description=ERROR_TEXTS[code]) for code in codes}


PAGE_FIELDS: dict[str, Any] = {
    "count": serializers.IntegerField(),
    "next": serializers.URLField(allow_null=True),
    "previous": serializers.URLField(allow_null=True),
}


def page_of(name: str, child: Any) -> Any:
    """`{count, next, previous, results}` for views that paginate by hand (plain APIView)."""
    return shape(name, {**PAGE_FIELDS, "results": child})


PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("page_size", int, description="Results per page, up to 1000."),
]


def many(shape: serializers.Serializer) -> serializers.ListSerializer:
    """A list of an inline shape, sharing its component."""
    return type(shape)(many=True)


def query(name: str, description: str, type_: Any = str, **kwargs: Any) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, description=description,
                            **kwargs)


def header(name: str, description: str, *, response: Any = False,
           required: bool = False) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.HEADER, description=description,
                            response=response, required=required)


def document(target: str, **methods: Any) -> None:
    """Register the schema of view class `target` (dotted path): method name -> extend_schema.

    The extension hands drf-spectacular a subclass of the view carrying the annotations, so
    the real view is never changed.
    """

    def view_replacement(self: OpenApiViewExtension) -> Any:
        # A dotted path until drf-spectacular matches a view: then the class itself.
        view_class = cast(type, self.target_class)
        annotated = type(view_class.__name__, (view_class,), {})
        return extend_schema_view(**methods)(annotated)

    name = target.rsplit(".", 1)[1] + "Schema"
    type(name, (OpenApiViewExtension,), {"target_class": target,
                                         "view_replacement": view_replacement})


# -- Content (INTERFACE.md) --------------------------------------------------------------------

FILE_FIELDS: dict[str, Any] = {
    "id": serializers.CharField(help_text=HEX_ID),
    "checksum": serializers.CharField(help_text="MD5, " + HEX_ID),
    "extension": serializers.CharField(),
    "preset": serializers.CharField(),
    "thumbnail": serializers.BooleanField(),
    "supplementary": serializers.BooleanField(),
    "lang": serializers.CharField(allow_null=True),
    "file_size": serializers.IntegerField(allow_null=True),
    "url": serializers.CharField(help_text="/content/storage/<c0>/<c1>/<md5>.<ext>"),
    "available": serializers.BooleanField(help_text="Whether the bytes are on this server."),
}
File = shape("File", FILE_FIELDS)
ChannelFile = shape("ChannelFile", {
    **FILE_FIELDS, "contentnode": serializers.CharField(help_text="The node's id."),
})
NODE_FIELDS: dict[str, Any] = {
    "id": serializers.CharField(help_text=HEX_ID),
    "channel_id": serializers.CharField(help_text=HEX_ID),
    "content_id": serializers.CharField(help_text="Shared by copies of a resource; " + HEX_ID),
    "parent": serializers.CharField(allow_null=True, help_text="The parent topic's id."),
    "title": serializers.CharField(),
    "description": serializers.CharField(),
    "kind": serializers.CharField(help_text="topic, video, audio, document, exercise, html5 ..."),
    "sort_order": serializers.FloatField(),
    "available": serializers.BooleanField(),
    "thumbnail": serializers.CharField(allow_null=True, help_text="URL or null"),
    "files": many(File),
}
Node = shape("ContentNode", NODE_FIELDS)
NodeDetail = shape("ContentNodeDetail", {
    **NODE_FIELDS,
    "ancestors": shape("Ancestor", {"id": serializers.CharField(),
                                               "title": serializers.CharField()}, many=True),
    "rendering": serializers.DictField(
        child=serializers.JSONField(),
        help_text="What the rendering workflow chose: player, essential file, supplementary "
                  "files."),
})
SearchResult = shape("SearchResult", {
    **NODE_FIELDS,
    "channel_name": serializers.CharField(),
    "lang": serializers.CharField(allow_null=True),
    "match": serializers.ChoiceField(["word", "prefix"]),
    "score": serializers.FloatField(help_text="bm25 relevance, higher first"),
})

document("content.api.ContentNodeListView", get=extend_schema(
    summary="List a channel's nodes",
    parameters=[query("parent", "Only the children of this topic (node id), in sort_order."),
                query("kind", "Only nodes of this kind (topic, video, ...)."),
                query("search", "Words in the title or description.")],
    responses={200: many(Node), **errors(400, 404)}))
document("content.api.ContentNodeDetailView", get=extend_schema(
    summary="One node with its files, ancestors and rendering",
    responses={200: NodeDetail, **errors(404)}))
document("content.api.ChannelFileListView", get=extend_schema(
    summary="List a channel's files",
    parameters=[query("contentnode", "Only the files of this node (node id).")],
    responses={200: many(ChannelFile), **errors(400, 404)}))
document("content.search.api.SearchView", get=extend_schema(
    summary="Search every channel, ranked", operation_id="api_search_list",
    description="Whole-word matches before prefixes; title hits before description hits; then "
                "bm25 score.",
    parameters=[query("q", "The words to find."),
                query("kind", "Only nodes of this kind."),
                query("lang", "Only nodes in this language."),
                query("channel", "Only this channel (channel id)."),
                query("page", "Page number, from 1; the first 1000 results.", int),
                query("page_size", "Results per page, up to 100.", int)],
    responses={200: page_of("PaginatedSearchResultList", many(SearchResult)),
               **errors(400, 404)}))
document("channels.views.ChannelDatabaseView", get=extend_schema(
    summary="Download the current channel database (what a LAN peer imports)",
    parameters=[header("Range", "One byte range; answered 206."),
                header("If-Range", "The ETag the range applies to.")],
    responses={(200, "application/vnd.sqlite3"): OpenApiTypes.BINARY,
               (206, "application/vnd.sqlite3"): OpenApiTypes.BINARY, **errors(404, 416)}))

# -- Channels and tasks ----------------------------------------------------------------------

document("channels.api.ChannelListView", get=extend_schema(
    summary="List the installed channels",
    responses={200: ChannelSerializer(many=True)}))
document("channels.api.ChannelDetailView",
         get=extend_schema(summary="One installed channel",
                           responses={200: ChannelSerializer, **errors(404)}),
         delete=extend_schema(summary="Delete a channel (admins, or its author)",
                              responses={204: None, **errors(401, 403, 404, 409)}))
document("channels.api.ChannelVersionListView", get=extend_schema(
    summary="The kept versions of a channel, newest first",
    responses={200: ChannelVersionSerializer(many=True), **errors(401, 403, 404)}))
document("channels.api.ChannelRevertView", post=extend_schema(
    summary="Make an older kept version current again",
    request=RevertSerializer,
    responses={200: ChannelSerializer, **errors(400, 401, 403, 404, 409)}))

TaskRequest = shape("TaskRequest", {
    "kind": serializers.CharField(help_text="import, export, scan, ... (jobs.builtin_kinds)"),
}, help_text="`kind` plus that kind's parameters.")
document("jobs.api.TaskListView",
         get=extend_schema(summary="List your tasks (admins: all)", parameters=[
             query("state", "Comma-separated: queued, running, done, failed, cancelled."),
             query("channel_id", "Only tasks on this channel."),
             query("kind", "Comma-separated task kinds.")],
             responses={200: JobSerializer(many=True), **errors(400, 401)}),
         post=extend_schema(summary="Start a task", request=TaskRequest,
                            responses={201: JobSerializer, **errors(400, 401, 403, 409)}))
document("jobs.api.TaskDetailView",
         get=extend_schema(summary="One task", responses={200: JobSerializer, **errors(401, 404)}),
         delete=extend_schema(summary="Cancel a task",
                              responses={200: JobSerializer, **errors(401, 404, 409)}))

# -- Accounts --------------------------------------------------------------------------------

Detail = shape("Detail", {"detail": serializers.CharField()})
document("accounts.api.UserListView",
         get=extend_schema(summary="List users (admins)", parameters=[
             query("role", "admin, author or learner."),
             query("is_active", "true or false."),
             query("search", "Part of the username or full name.")],
             responses={200: UserSerializer(many=True), **errors(401, 403)}),
         post=extend_schema(summary="Create a user (admins)", request=UserCreateSerializer,
                            responses={201: UserSerializer, **errors(400, 401, 403)}))
document("accounts.api.UserDetailView",
         get=extend_schema(summary="One user (admins)",
                           responses={200: UserSerializer, **errors(401, 403, 404)}),
         patch=extend_schema(summary="Change a user (admins)", request=UserUpdateSerializer,
                             responses={200: UserSerializer, **errors(400, 401, 403, 404)}))
document("accounts.api.UserPasswordResetView", post=extend_schema(
    summary="Set a user's password, or generate one with {} (admins)",
    request=PasswordResetSerializer,
    responses={200: shape("PasswordResetResult", {
        "detail": serializers.CharField(),
        "password": serializers.CharField(required=False, help_text="Only when generated.")}),
        **errors(400, 401, 403, 404)}))
document("accounts.api.UserImportView", post=extend_schema(
    summary="Create users from a CSV file (admins)",
    request={"multipart/form-data": UserImportSerializer},
    responses={200: shape("UserImportResult", {
        "detail": serializers.CharField(help_text="The summary."),
        "created": serializers.IntegerField(),
        "bad_rows": shape("BadRow", {
            "row": serializers.IntegerField(), "username": serializers.CharField(),
            "reason": serializers.CharField()}, many=True)}), **errors(400, 401, 403)}))
document("accounts.api.OwnPasswordView", post=extend_schema(
    summary="Change your own password", request=OwnPasswordSerializer,
    responses={200: Detail, **errors(400, 401)}))

# -- Authoring (drafts and their files, tus 1.0) -----------------------------------------------

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

# -- Learning --------------------------------------------------------------------------------

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

# -- Routes and hook -------------------------------------------------------------------------

# drf-spectacular's views module reads DEFAULT_SCHEMA_CLASS (this module's AutoSchema) when it
# is imported, so it can only be imported once AutoSchema exists.
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView  # noqa: E402

# The YAML document (`?format=json` for JSON) and Swagger UI, whose scripts, styles and favicon
# are drf-spectacular-sidecar's static files (SWAGGER_UI_DIST = "SIDECAR"), served by whitenoise.
schema_view = SpectacularAPIView.as_view()
docs_view = SpectacularSwaggerView.as_view(url_name="api-schema")


HEX_PATTERN = "^[0-9a-f]{32}$"
PATH_IDS = {
    "channel_id": ("A channel id: " + HEX_ID + ".", {"pattern": HEX_PATTERN}),
    "node_id": ("A node id: " + HEX_ID + ".", {"pattern": HEX_PATTERN}),
    "draft_id": ("A draft's id.", {"format": "uuid"}),
    "file_id": ("A draft file's id.", {"format": "uuid"}),
    "job_id": ("A task's id.", {"format": "uuid"}),
    "certificate_id": ("A certificate's id.", {"format": "uuid"}),
}


def describe_path_ids(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: what each id in a path looks like (a malformed one answers 404).

    The URLs take any string (`<str:channel_id>`) so that the views answer a JSON 404, which
    leaves drf-spectacular only "string" to say; the channel API's `pk` became `id`.
    """
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                if parameter["in"] != "path":
                    continue
                if name == "id" and path.startswith("/api/channels/"):
                    name = "channel_id"
                if name in PATH_IDS:
                    description, schema = PATH_IDS[name]
                    parameter["description"] = description
                    parameter["schema"] = {"type": "string", **schema}
    return result


def load(endpoints: list[Any]) -> list[Any]:
    """Preprocessing hook: its only job is to get this module imported (see the docstring)."""
    return endpoints
