"""The files of a draft over HTTP: plain multipart uploads, tus 1.0 (core, creation,
termination), edit and remove (issue 4). Views are thin: parse headers, call authoring.uploads.

    GET     /api/drafts/<id>/files/             -> {"count", "next", "previous", "results"}
    POST    /api/drafts/<id>/files/             multipart `file`, `description`, `topic`, `usage`
                                                -> 201 file JSON
    POST    (Tus-Resumable, Upload-Length, Upload-Metadata) -> 201, Location: the file URL
    OPTIONS /api/drafts/<id>/files/             -> 204 with the tus capabilities
    HEAD    /api/drafts/<id>/files/<file_id>/   -> 200, Upload-Offset, Upload-Length
    PATCH   (application/offset+octet-stream, Upload-Offset) -> 204, Upload-Offset
    PATCH   (JSON: description, topic, name, position) -> 200 file JSON
    GET     /api/drafts/<id>/files/<file_id>/   -> file JSON
    DELETE  /api/drafts/<id>/files/<file_id>/   -> 204 (tus termination too)

A chunk's body is read from the request stream in pieces by the service, never through
`request.body` or DRF's parsers: those would load it into memory, and `request.body` refuses
anything over DATA_UPLOAD_MAX_MEMORY_SIZE. Every tus response carries `Tus-Resumable`.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from authoring.errors import UploadTooLargeError
from authoring.serializers import draft_file_json
from authoring.api import AuthoringAPIError, AuthoringView
from authoring.draft_files import get_file, list_files, remove_file, update_file
from authoring.uploads import (
    MULTIPART_MAX_SIZE,
    append_chunk,
    format_size,
    receive_whole_file,
    start_upload,
    upload_status,
)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination"
CHUNK_CONTENT_TYPE = "application/offset+octet-stream"
DIGITS = re.compile(r"[0-9]{1,19}")
# Multipart framing around a file: boundaries, part headers and the small text fields.
MULTIPART_OVERHEAD = 1024 * 1024


class TusVersionError(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = format_lazy(gettext_lazy("This server speaks tus {version}; send "
                                              "`Tus-Resumable: {version}`."), version=TUS_VERSION)


class ChunkContentTypeError(APIException):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_detail = format_lazy(gettext_lazy("Send a tus chunk with `Content-Type: {type}`."),
                                 type=CHUNK_CONTENT_TYPE)


def _content_type(request: Request) -> str:
    return request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()


def _is_chunk(request: Request) -> bool:
    return request.method == "PATCH" and ("HTTP_TUS_RESUMABLE" in request.META
                                          or _content_type(request) == CHUNK_CONTENT_TYPE)


def is_tus_request(request: Request) -> bool:
    """HEAD, a chunk PATCH, or anything that names a tus version: answered the tus way."""
    return (request.method == "HEAD" or _is_chunk(request)
            or "HTTP_TUS_RESUMABLE" in request.META)


def _check_tus_version(request: Request) -> None:
    if request.META.get("HTTP_TUS_RESUMABLE") != TUS_VERSION:
        raise TusVersionError()


def _header_number(request: Request, header: str) -> int:
    value = request.headers.get(header)
    if value is None or DIGITS.fullmatch(value) is None:
        raise ParseError(gettext("Send `%(header)s` as a whole number of bytes.")
                         % {"header": header})
    return int(value)


def _content_length(request: Request) -> int | None:
    value = request.META.get("CONTENT_LENGTH") or ""
    return int(value) if DIGITS.fullmatch(value) else None


def parse_upload_metadata(header: str) -> dict[str, str]:
    """tus `Upload-Metadata`: comma-separated `key base64(value)` pairs (the value optional)."""
    found: dict[str, str] = {}
    for pair in header.split(","):
        if not pair.strip():
            continue
        parts = pair.strip().split(" ")
        if len(parts) > 2 or not parts[0] or parts[0] in found:
            raise ParseError(gettext("Upload-Metadata must be comma-separated `key base64value` "
                                     "pairs, each key once."))
        try:
            value = base64.b64decode(parts[1], validate=True).decode() if len(parts) == 2 else ""
        except (binascii.Error, UnicodeDecodeError):
            raise ParseError(gettext("Upload-Metadata `%(key)s` is not base64 of UTF-8 text.")
                             % {"key": parts[0]}) \
                from None
        found[parts[0]] = value
    return found


def tus_capabilities() -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS, "Tus-Max-Size": str(int(settings.MAX_UPLOAD_SIZE))}


class DraftFileAPIView(AuthoringView):
    """What both views share: who may call and errors (AuthoringView), tus headers."""

    def finalize_response(self, request: Request, response: Any, *args: Any,
                          **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if is_tus_request(request) or response.status_code == 412:
            response["Tus-Resumable"] = TUS_VERSION
        if response.status_code == 412:
            response["Tus-Version"] = TUS_VERSION
        return response

    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT, headers=tus_capabilities())


class DraftFileListView(DraftFileAPIView):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before authentication: the session's CSRF check parses a multipart body, which
        # would first receive all of an oversized upload.
        if request.method == "POST" and "HTTP_TUS_RESUMABLE" not in request.META:
            length = _content_length(request)
            if length is not None and length > MULTIPART_MAX_SIZE + MULTIPART_OVERHEAD:
                raise AuthoringAPIError(UploadTooLargeError(
                    gettext("A plain upload takes at most %(size)s. Upload larger files "
                            "resumably with the tus protocol (POST with the Tus-Resumable "
                            "header).") % {"size": format_size(MULTIPART_MAX_SIZE)}))
        super().initial(request, *args, **kwargs)

    def get(self, request: Request, draft_id: str) -> Response:
        results = [draft_file_json(item) for item in list_files(request.user, draft_id)]
        return Response({"count": len(results), "next": None, "previous": None,
                         "results": results})

    def post(self, request: Request, draft_id: str) -> Response:
        if "HTTP_TUS_RESUMABLE" in request.META:
            return self.create_tus_upload(request, draft_id)
        uploaded = request.FILES.get("file")
        if uploaded is None:
            raise ValidationError({"file": ["Send the file as the multipart field `file`."]})
        item = receive_whole_file(
            request.user, draft_id, uploaded, description=request.data.get("description", ""),
            topic=request.data.get("topic", ""), usage=request.data.get("usage") or "resource")
        return Response(draft_file_json(item), status=status.HTTP_201_CREATED)

    def create_tus_upload(self, request: Request, draft_id: str) -> Response:
        _check_tus_version(request)
        if "Upload-Length" not in request.headers and "Upload-Defer-Length" in request.headers:
            raise ParseError(gettext("Upload-Defer-Length is not supported: send Upload-Length."))
        size = _header_number(request, "Upload-Length")
        metadata = parse_upload_metadata(request.headers.get("Upload-Metadata", ""))
        if not metadata.get("filename"):
            raise ParseError(gettext("Name the file in Upload-Metadata (`filename`, base64)."))
        item = start_upload(request.user, draft_id, filename=metadata["filename"], size=size,
                            description=metadata.get("description", ""),
                            topic=metadata.get("topic", ""),
                            usage=metadata.get("usage") or "resource")
        return Response(draft_file_json(item), status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path}{item.id}/"})


class DraftFileDetailView(DraftFileAPIView):
    def get(self, request: Request, draft_id: str, file_id: str) -> Response:
        return Response(draft_file_json(get_file(request.user, draft_id, file_id)))

    def head(self, request: Request, draft_id: str, file_id: str) -> Response:
        _check_tus_version(request)
        item = upload_status(request.user, draft_id, file_id)
        return Response(status=status.HTTP_200_OK, headers={
            "Upload-Offset": str(item.received), "Upload-Length": str(item.size),
            "Cache-Control": "no-store"})

    def patch(self, request: Request, draft_id: str, file_id: str) -> Response:
        if not _is_chunk(request):
            item = update_file(request.user, draft_id, file_id, request.data)
            return Response(draft_file_json(item))
        _check_tus_version(request)
        if _content_type(request) != CHUNK_CONTENT_TYPE:
            raise ChunkContentTypeError()
        offset = _header_number(request, "Upload-Offset")
        # The Django request itself: read in pieces by the service, never loaded whole.
        item = append_chunk(request.user, draft_id, file_id, offset=offset,
                            stream=request._request, length=_content_length(request))
        return Response(status=status.HTTP_204_NO_CONTENT,
                        headers={"Upload-Offset": str(item.received)})

    def delete(self, request: Request, draft_id: str, file_id: str) -> Response:
        if "HTTP_TUS_RESUMABLE" in request.META:
            _check_tus_version(request)
        remove_file(request.user, draft_id, file_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
