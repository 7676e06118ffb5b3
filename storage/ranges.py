"""Parsing of the request headers that decide which bytes of a stored file to send (RFC 9110).

Pure functions, no Django: `Range` (section 14.2), and the two validators that decide whether
a Range applies at all, `If-None-Match` (13.1.2) and `If-Range` (13.1.5). Stored files are
immutable and named by their MD5, so their entity tag is `"<md5>"` and never changes.

What we accept, and why:
- One range only: `bytes=a-b`, `bytes=a-`, `bytes=-n`. A request for several ranges gets the
  whole file (200), which RFC 9110 allows ("a server MAY ignore the Range header field"); no
  player needs multipart/byteranges, and refusing to split a header with thousands of parts
  keeps the work per request bounded. Headers longer than MAX_RANGE_HEADER_LENGTH are ignored
  before any parsing for the same reason.
- A malformed header, another unit, or `last < first` is ignored (200 whole file), as the RFC
  says a server must treat an invalid range-spec.
- A syntactically valid range that starts at or beyond the end of the file, or a zero-length
  suffix, is unsatisfiable: 416 with `Content-Range: bytes */<size>`.
- `If-Range` is honoured with strong comparison: only our own strong ETag lets the Range
  apply; a weak tag, another tag or an HTTP date (we send no Last-Modified) means the whole
  file, which is always a correct answer.

    >>> parse_range_header("bytes=0-99", 1000)
    ByteRange(start=0, end=99)
    >>> parse_range_header("bytes=-100", 1000)
    ByteRange(start=900, end=999)
    >>> parse_range_header("bytes=5000-", 1000)
    UnsatisfiableRange()
    >>> parse_range_header("bytes=0-1,5-6", 1000) is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Far longer than any single range of a file we could store (two 20-digit numbers), far
# shorter than a header that tries to make us work.
MAX_RANGE_HEADER_LENGTH = 200
# If-None-Match lists a cache's stored tags; browsers send one. Longer lists are ignored
# (the answer is then a full 200, never a wrong 304).
MAX_VALIDATOR_HEADER_LENGTH = 2048

# `bytes` is case-insensitive (a token); the numbers are ASCII digits only, never `int()`'s
# wider idea of a number (signs, underscores, spaces, non-ASCII digits).
_SINGLE_RANGE_PATTERN = re.compile(
    r"[ \t]*bytes=(?:(?P<first>[0-9]+)-(?P<last>[0-9]*)|-(?P<suffix>[0-9]+))[ \t]*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An inclusive byte range inside a file: always 0 <= start <= end < size."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


@dataclass(frozen=True, slots=True)
class UnsatisfiableRange:
    """A valid Range that selects no byte of the file: answer 416."""

    @staticmethod
    def content_range(size: int) -> str:
        return f"bytes */{size}"


RangeDecision = ByteRange | UnsatisfiableRange | None
"""What to send: these bytes (206), 416, or None for the whole file (200)."""


def parse_range_header(header: str | None, size: int) -> RangeDecision:
    """Decide what a `Range` header asks of a file of `size` bytes; see the module doc.

    Runs in time bounded by MAX_RANGE_HEADER_LENGTH whatever the header holds.
    """
    if size < 0:
        raise ValueError(f"a file size cannot be negative: {size}")
    if not header or len(header) > MAX_RANGE_HEADER_LENGTH or "," in header:
        return None
    match = _SINGLE_RANGE_PATTERN.fullmatch(header)
    if match is None:
        return None
    if match.group("suffix") is not None:
        suffix_length = int(match.group("suffix"))
        if suffix_length == 0 or size == 0:
            return UnsatisfiableRange()
        return ByteRange(max(0, size - suffix_length), size - 1)
    first = int(match.group("first"))
    last_text = match.group("last")
    last = int(last_text) if last_text else None
    if last is not None and last < first:
        return None
    if first >= size:
        return UnsatisfiableRange()
    end = size - 1 if last is None else min(last, size - 1)
    return ByteRange(first, end)


def strong_etag(checksum: str) -> str:
    """The entity tag of a stored file: its MD5, quoted. The bytes behind a name never change."""
    return f'"{checksum}"'


def if_none_match_matches(header: str | None, etag: str) -> bool:
    """True when `If-None-Match` names `etag` (or is `*`): the client's copy is current (304).

    Weak comparison, as RFC 9110 13.1.2 requires: `W/"x"` matches `"x"`.
    """
    if not header or len(header) > MAX_VALIDATOR_HEADER_LENGTH:
        return False
    if header.strip() == "*":
        return True
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


def if_range_allows_range(header: str | None, etag: str) -> bool:
    """True when a Range may apply: no `If-Range`, or one that names our strong `etag` exactly.

    Strong comparison (RFC 9110 13.1.5): a weak tag never matches. A date never matches
    either, because stored files are served without Last-Modified; the whole file is sent.
    """
    if header is None:
        return True
    if len(header) > MAX_VALIDATOR_HEADER_LENGTH:
        return False
    return header.strip() == etag
