"""Serving stored files: `GET`/`HEAD /content/storage/<c0>/<c1>/<md5>.<ext>`.

The name is checked by `storage.paths` before any path is built (malformed, traversal, wrong
folder names: 404 JSON); header parsing is in `storage.ranges`; this module only builds the
responses:

- 200: the whole file through Django's `FileResponse`, so the WSGI server's `file_wrapper`
  (sendfile where it has one) sends it;
- 206: one range, also through `FileResponse`, over a `FileRange` (a file-like view of just
  those bytes): waitress then sends it from its I/O thread as it sends a whole file, instead
  of a worker thread pushing chunks through its output buffers (which spill past 1 MB into
  temporary files); other WSGI servers iterate it in bounded chunks. Never read whole into
  memory (measured: benchmarks/file_serving.py);
- 304: `If-None-Match` names the ETag (the MD5; stored bytes never change);
- 416: a valid Range that selects nothing, with `Content-Range: bytes */<size>`;
- `HEAD` answers the headers of the 200 without a body (Range is ignored for HEAD, as
  RFC 9110 says for methods where range handling is not defined).

Stored files come from channels anyone may have authored, and this is the main origin: nothing
here may run as a page. Every answer carries `nosniff`; SVG and HTML-like files are sent as
attachments; every type but PDF gets a `Content-Security-Policy` with `sandbox` and no script
source (`default-src 'none'; sandbox`, plus what the browser's own viewer needs to show a
video, audio file or image opened directly). PDF gets none: Chrome and Safari refuse to show a
PDF under a sandbox policy, and their PDF viewers run a PDF's scripts apart from the page.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import BinaryIO

from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotModified,
    JsonResponse,
)
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt
from django.utils.translation import gettext, gettext_lazy

from storage.files import OpenedStoredFile, StoredFileNotFoundError, open_stored_file
from storage.mime import mime_type_for
from storage.paths import InvalidStorageNameError, parse_storage_relpath, storage_name
from storage.ranges import (
    ByteRange,
    UnsatisfiableRange,
    if_none_match_matches,
    if_range_allows_range,
    parse_range_header,
    strong_etag,
)

ALLOWED_METHODS = ("GET", "HEAD")
CACHE_CONTROL = "public, max-age=31536000, immutable"
SANDBOX_POLICY = "default-src 'none'; sandbox"
# Opened directly, a video, audio or image file becomes a document the browser makes up (a
# <video> of the same URL, inline styles). Under SANDBOX_POLICY alone Chromium blocks that
# load (media-src), and with an opaque origin it turns it into a refused CORS request, hence
# `allow-same-origin`: harmless without `allow-scripts`, as nothing can run to use it.
# Checked with Debian's chromium: the video plays, the image shows.
MEDIA_DOCUMENT_POLICY = ("default-src 'none'; img-src 'self'; media-src 'self'; "
                         "style-src 'unsafe-inline'; sandbox allow-same-origin")
MEDIA_DOCUMENT_TYPE_PREFIXES = ("video/", "audio/", "image/")
RANGE_CHUNK_SIZE = 64 * 1024
# Types a browser would render as a document able to run script on our origin.
DOWNLOAD_ONLY_EXTENSIONS = frozenset({
    "svg", "svgz", "html", "htm", "xhtml", "xht", "shtml", "mht", "mhtml", "xml", "xsl",
    "xslt", "js", "mjs",
})
DOWNLOAD_ONLY_MIME_MARKERS = ("html", "xml", "svg", "javascript", "ecmascript")
NO_SANDBOX_MIME_TYPES = frozenset({"application/pdf"})

NOT_FOUND_DETAIL = gettext_lazy("No such file in this server's content storage. Check the "
                                "address: /content/storage/<c0>/<c1>/<md5>.<extension>.")


def _json_error(detail: str, status: int) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def must_download(extension: str, content_type: str) -> bool:
    """True for files a browser could render as a script-running document: never inline."""
    base_type = content_type.split(";", 1)[0].strip().lower()
    return extension in DOWNLOAD_ONLY_EXTENSIONS or any(
        marker in base_type for marker in DOWNLOAD_ONLY_MIME_MARKERS)


def stored_file_headers(checksum: str, extension: str) -> dict[str, str]:
    """Headers every successful answer for this file carries (200, 206, 304 and HEAD)."""
    content_type = mime_type_for(extension)
    disposition = content_disposition_header(must_download(extension, content_type),
                                             storage_name(checksum, extension))
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": disposition or "inline",
        "Accept-Ranges": "bytes",
        "ETag": strong_etag(checksum),
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    policy = content_security_policy(content_type)
    if policy is not None:
        headers["Content-Security-Policy"] = policy
    return headers


def content_security_policy(content_type: str) -> str | None:
    """The sandbox policy for a stored file's type; None for PDF (see the module doc)."""
    base_type = content_type.split(";", 1)[0].strip().lower()
    if base_type in NO_SANDBOX_MIME_TYPES:
        return None
    if base_type.startswith(MEDIA_DOCUMENT_TYPE_PREFIXES) and "svg" not in base_type:
        return MEDIA_DOCUMENT_POLICY
    return SANDBOX_POLICY


class FileRangeReader:
    """Iterates over `length` bytes of `file` from `start`, in chunks of at most `chunk_size`.

    Each step reads at least one byte or stops, so the loop ends after at most `length`
    steps even if the file were cut short. `close()` (called by Django when the response is
    closed, also when the client went away before the first chunk) closes the file.
    """

    def __init__(self, file: BinaryIO, start: int, length: int,
                 chunk_size: int = RANGE_CHUNK_SIZE) -> None:
        self.file = file
        self.start = start
        self.length = length
        self.chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        self.file.seek(self.start)
        remaining = self.length
        while remaining > 0:
            chunk = self.file.read(min(self.chunk_size, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self.file.close()


class FileRange:
    """A read-only, seekable file-like view of `length` bytes of `file` from `start`.

    Positions are relative to the range, so a reader that seeks to the end and back (Django's
    FileResponse for Content-Length, waitress's file wrapper for what is left to send) sees a
    file of `length` bytes and can never read past it. Reads use `os.pread` at the absolute
    offset. The underlying file is left at `start` and `fileno()` gives it, for a server that
    sends with sendfile from the descriptor's position for Content-Length bytes (gunicorn).
    `close()` closes `file`.

    waitress reads each block twice: once to send it, then again, after a seek back, only to
    learn how far to skip. The last block read is kept, and a read inside it is answered from
    it (a memoryview, no copy, no system call).
    """

    def __init__(self, file: BinaryIO, start: int, length: int) -> None:
        self.file = file
        self.start = start
        self.length = length
        self.position = 0
        self._descriptor = file.fileno()
        file.seek(start)
        self._last = memoryview(b"")
        self._last_position = 0

    def read(self, size: int | None = -1) -> bytes | memoryview:
        remaining = self.length - self.position
        if size is None or size < 0 or size > remaining:
            size = remaining
        if size <= 0:
            return b""
        offset = self.position - self._last_position
        if 0 <= offset and offset + size <= len(self._last):
            data: bytes | memoryview = self._last[offset:offset + size]
        else:
            data = os.pread(self._descriptor, size, self.start + self.position)
            self._last = memoryview(data)
            self._last_position = self.position
        self.position += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = min(max(base + offset, 0), self.length)
        return self.position

    def tell(self) -> int:
        return self.position

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._descriptor

    def close(self) -> None:
        self._last = memoryview(b"")
        self.file.close()

    @property
    def closed(self) -> bool:
        return self.file.closed


def _not_modified(headers: dict[str, str]) -> HttpResponseNotModified:
    response = HttpResponseNotModified()
    for name in ("ETag", "Cache-Control", "X-Content-Type-Options", "Content-Security-Policy"):
        if name in headers:
            response[name] = headers[name]
    return response


def _with_headers(response: HttpResponseBase, headers: dict[str, str]) -> HttpResponseBase:
    for name, value in headers.items():
        response[name] = value
    return response


def _respond(request: HttpRequest, opened: OpenedStoredFile, checksum: str,
             extension: str) -> HttpResponseBase:
    """Choose 304, 416, 206, HEAD or 200 for an open stored file. A streaming response owns
    `opened.file` and closes it; for any other answer the caller closes it."""
    headers = stored_file_headers(checksum, extension)
    if if_none_match_matches(request.headers.get("If-None-Match"), headers["ETag"]):
        return _not_modified(headers)
    decision: ByteRange | UnsatisfiableRange | None = None
    if request.method == "GET" and if_range_allows_range(request.headers.get("If-Range"),
                                                         headers["ETag"]):
        decision = parse_range_header(request.headers.get("Range"), opened.size)
    if isinstance(decision, UnsatisfiableRange):
        response = _json_error(
            gettext("The requested range is outside the file, which has %(size)s bytes.")
            % {"size": opened.size}, 416)
        response["Content-Range"] = decision.content_range(opened.size)
        response["Accept-Ranges"] = "bytes"
        return response
    if isinstance(decision, ByteRange):
        ranged = FileResponse(FileRange(opened.file, decision.start, decision.length),
                              status=206, content_type=headers["Content-Type"])
        ranged.block_size = RANGE_CHUNK_SIZE  # for servers without a file wrapper
        _with_headers(ranged, headers)
        ranged["Content-Range"] = decision.content_range(opened.size)
        ranged["Content-Length"] = str(decision.length)
        return ranged
    if request.method == "HEAD":
        head = _with_headers(HttpResponse(), headers)
        head["Content-Length"] = str(opened.size)
        return head
    whole = FileResponse(opened.file, content_type=headers["Content-Type"])
    return _with_headers(whole, headers)


@csrf_exempt  # read-only: GET and HEAD change nothing; other methods get a JSON 405
def serve_stored_file(request: HttpRequest, c0: str, c1: str, name: str) -> HttpResponseBase:
    """Serve one stored file by its content address; see the module doc."""
    response: HttpResponseBase
    if request.method not in ALLOWED_METHODS:
        response = _json_error(gettext("Stored files are read-only: use GET or HEAD."), 405)
        response["Allow"] = ", ".join(ALLOWED_METHODS)
        return response
    try:
        checksum, extension = parse_storage_relpath(f"{c0}/{c1}/{name}")
        opened = open_stored_file(checksum, extension)
    except (InvalidStorageNameError, StoredFileNotFoundError):
        return _json_error(str(NOT_FOUND_DETAIL), 404)
    try:
        response = _respond(request, opened, checksum, extension)
    except BaseException:
        opened.file.close()
        raise
    if not response.streaming:
        # Only a streaming body (the 200's FileResponse, the 206's reader) owns the file.
        opened.file.close()
    return response
