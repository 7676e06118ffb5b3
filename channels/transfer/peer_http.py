"""HTTP to a peer server of ours: JSON reads and resumable downloads, standard library only
(a classroom server installs nothing more), a timeout on every request and read.

    base = normalize_base_url("http://192.168.1.10:8000/")
    listing = get_json(base + "/api/channels/?page_size=1000", label)
    received = download(url, part_path, limit=size, on_bytes=..., label="peer http://...")

`download` appends to an existing `.part` with `Range: bytes=<length>-`, and with
`If-Range: <ETag>` when the first answer carried one (kept beside the part as `<part>.etag`): a
peer now serving other bytes under the same URL (a channel database after a publish or revert)
answers 200, and the download starts again from the first byte.

An https peer whose certificate no system authority vouches for (`kolibri-like start --https`)
is trusted by pinning its certificate on first use (channels.transfer.peer_trust); a changed
certificate is PeerCertificateChangedError (exit 4), never a silent download.
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.utils.translation import gettext

from channels.transfer.errors import (
    BadTransferArgumentError,
    DiskFullError,
    PeerAnswerError,
    PeerUnreachableError,
    SourceReadError,
)
from channels.transfer.peer_trust import certificate_changed_error, ssl_context_for

TIMEOUT_SECONDS = 20
CHUNK_SIZE = 256 * 1024
MAX_JSON_BYTES = 32 * 1024 * 1024
# No file of a channel is larger; a peer that keeps sending is cut off here.
MAX_DOWNLOAD_BYTES = 64 * 1024 ** 3
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
USER_AGENT = "kolibri-like (channel import)"


class PeerFileNotFoundError(Exception):
    """The peer answered 404 for this URL."""


def normalize_base_url(url: str) -> str:
    """"http://host:port/" -> "http://host:port"; anything but a plain http(s) URL is refused."""
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query \
            or parsed.fragment or parsed.username or parsed.password:
        raise BadTransferArgumentError(
            gettext("not a server address: %(url)r; give one like http://192.168.1.10:8000")
            % {"url": url})
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"),
                                    "", ""))


def _open(url: str, label: str, headers: dict[str, str] | None = None
          ) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    # An https peer with its own certificate is verified against its pin (peer_trust).
    context = ssl_context_for(url, label)
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(  # noqa: S310 - http(s) only
            request, timeout=TIMEOUT_SECONDS, context=context)
        return response
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 404:
            raise PeerFileNotFoundError(url) from None
        if error.code == 416:
            raise _RangeNotSatisfiableError(url) from None
        raise PeerAnswerError(gettext("%(peer)s answered %(code)s for %(url)s")
                              % {"peer": label, "code": error.code, "url": url}) from None
    except urllib.error.URLError as error:
        _raise_if_certificate_changed(error.reason, url, label)
        raise PeerUnreachableError(label, error.reason) from None
    except (OSError, http.client.HTTPException) as error:
        _raise_if_certificate_changed(error, url, label)
        raise PeerUnreachableError(label, error) from None


def _raise_if_certificate_changed(reason: object, url: str, label: str) -> None:
    if isinstance(reason, ssl.SSLCertVerificationError):
        changed = certificate_changed_error(url, label)
        if changed is not None:
            raise changed from None


class _RangeNotSatisfiableError(Exception):
    pass


def get_json(url: str, label: str) -> Any:
    with _open(url, label, {"Accept": "application/json"}) as response:
        try:
            raw = response.read(MAX_JSON_BYTES + 1)
        except (OSError, http.client.HTTPException) as error:
            raise SourceReadError(label, error) from error
    if len(raw) > MAX_JSON_BYTES:
        raise PeerAnswerError(gettext("%(peer)s sent an answer too large for %(url)s")
                              % {"peer": label, "url": url})
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise PeerAnswerError(gettext("%(peer)s did not answer JSON for %(url)s; is it a server "
                                      "of ours?") % {"peer": label, "url": url}) from None


def discard_part(part: Path) -> None:
    """Remove a `.part` and the ETag kept beside it (once stored, or when it is not wanted)."""
    part.unlink(missing_ok=True)
    part.with_name(part.name + ".etag").unlink(missing_ok=True)


def download(url: str, part: Path, *, limit: int | None, on_bytes: Callable[[int], None],
             label: str) -> int:
    """Download `url` into `part`, resuming from the bytes already there; return the bytes
    received now. `limit` (the expected size, if known) bounds what is accepted."""
    limit = MAX_DOWNLOAD_BYTES if limit is None else limit
    offset = part.stat().st_size if part.exists() else 0
    if offset > limit:
        discard_part(part)
        offset = 0
    if offset and offset == limit:
        return 0  # complete already; the checksum decides
    etag_file = part.with_name(part.name + ".etag")
    headers: dict[str, str] = {}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if etag_file.exists():
            headers["If-Range"] = etag_file.read_text().strip()
    try:
        response = _open(url, label, headers or None)
    except _RangeNotSatisfiableError:
        discard_part(part)
        offset = 0
        response = _open(url, label)
    with response:
        if response.status == 206:
            match = CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) != offset:
                raise PeerAnswerError(gettext("%(peer)s sent the wrong range for %(url)s")
                                      % {"peer": label, "url": url})
        else:
            offset = 0  # a whole file: start again
            etag = response.headers.get("ETag", "")
            if etag and len(etag) <= 200 and etag.isprintable():
                etag_file.write_text(etag)
            else:
                etag_file.unlink(missing_ok=True)
        return _receive(response, part, offset, limit, on_bytes, label, url)


def _receive(response: http.client.HTTPResponse, part: Path, offset: int, limit: int,
             on_bytes: Callable[[int], None], label: str, url: str) -> int:
    declared = response.headers.get("Content-Length")
    received = 0
    part.parent.mkdir(parents=True, exist_ok=True)
    # Unbuffered: every byte received is in the file at once, so even a SIGKILL or a power
    # cut (not only Ctrl-C) leaves a .part that the next run resumes from.
    with open(part, "ab" if offset else "wb", buffering=0) as writer:
        while True:
            try:
                # read1: what has arrived (up to CHUNK_SIZE), so a slow link still shows
                # progress and an interruption keeps every byte received in the .part.
                chunk = response.read1(CHUNK_SIZE)
            except (OSError, http.client.HTTPException) as error:
                raise SourceReadError(label, error) from error
            if not chunk:
                break
            received += len(chunk)
            if offset + received > limit:
                raise PeerAnswerError(gettext("%(peer)s sent more than the expected %(limit)s "
                                              "bytes for %(url)s")
                                      % {"peer": label, "limit": limit, "url": url})
            try:
                writer.write(chunk)
            except OSError as error:
                _drop_on_disk_full(part, error)
                raise
            on_bytes(len(chunk))
        try:
            os.fsync(writer.fileno())
        except OSError as error:
            _drop_on_disk_full(part, error)
            raise
    if declared is not None and declared.isdigit() and received < int(declared):
        raise SourceReadError(label, ConnectionError(
            f"the connection closed after {received} of {declared} bytes"))
    return received


def _drop_on_disk_full(part: Path, error: OSError) -> None:
    """On a full disk the partial download is removed: it is what filled the disk."""
    if error.errno == errno.ENOSPC:
        part.unlink(missing_ok=True)
        raise DiskFullError(part.parent) from error
