"""Names and places of stored files: validate the name, then build the path.

A stored file is named by the MD5 of its bytes: `storage/<c0>/<c1>/<md5>.<ext>`, as in Kolibri,
so a drive's `content/storage` folder and ours have the same layout.

    >>> storage_relpath("9808fa7c560b9801acccf0f6cf74c3ea", "mp4")
    '9/8/9808fa7c560b9801acccf0f6cf74c3ea.mp4'
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

CHECKSUM_PATTERN = re.compile(r"[0-9a-f]{32}")
EXTENSION_PATTERN = re.compile(r"[0-9a-z]{1,10}")
# Kolibri's pattern for names on a drive: `-data` marks a zip's unpacked copy.
STORAGE_NAME_PATTERN = re.compile(r"(?P<checksum>[0-9a-f]{32})(?P<data>-data)?\.(?P<extension>[0-9a-z]+)")
STORAGE_URL_PREFIX = "/content/storage/"
# `c/c/` + 32 hex + `.` + a 10-character extension is 48; longer is never a stored file.
MAX_STORAGE_RELPATH_LENGTH = 64


class InvalidStorageNameError(ValueError):
    exit_code = 4

    def __init__(self, name: object) -> None:
        super().__init__(f"not a stored file name (md5 and extension): {name!r}")


def is_valid_checksum(value: object) -> bool:
    return isinstance(value, str) and CHECKSUM_PATTERN.fullmatch(value) is not None


def validate_checksum(value: object) -> str:
    if not is_valid_checksum(value):
        raise InvalidStorageNameError(value)
    return value  # type: ignore[return-value]


def validate_extension(value: object) -> str:
    if not isinstance(value, str) or EXTENSION_PATTERN.fullmatch(value) is None:
        raise InvalidStorageNameError(value)
    return value


def parse_storage_name(name: str) -> tuple[str, str]:
    """`<md5>.<ext>` -> (md5, ext); anything else raises InvalidStorageNameError."""
    match = STORAGE_NAME_PATTERN.fullmatch(name) if isinstance(name, str) else None
    if match is None or match.group("data"):
        raise InvalidStorageNameError(name)
    return match.group("checksum"), validate_extension(match.group("extension"))


def parse_storage_relpath(relpath: str) -> tuple[str, str]:
    """`<c0>/<c1>/<md5>.<ext>` -> (md5, ext), the inverse of `storage_relpath`.

    The URL boundary: the two folder names must be the MD5's first two characters, so one
    file has one address (and a cache or a peer never sees two names for the same bytes).
    Anything else, including `..`, backslashes and a trailing newline, raises
    InvalidStorageNameError before any path is built.
    """
    if not isinstance(relpath, str) or len(relpath) > MAX_STORAGE_RELPATH_LENGTH:
        raise InvalidStorageNameError(relpath)
    parts = relpath.split("/")
    if len(parts) != 3:
        raise InvalidStorageNameError(relpath)
    first, second, name = parts
    checksum, extension = parse_storage_name(name)
    if first != checksum[0] or second != checksum[1]:
        raise InvalidStorageNameError(relpath)
    return checksum, extension


def storage_name(checksum: str, extension: str) -> str:
    return f"{validate_checksum(checksum)}.{validate_extension(extension)}"


def storage_relpath(checksum: str, extension: str) -> str:
    name = storage_name(checksum, extension)
    return f"{checksum[0]}/{checksum[1]}/{name}"


def storage_root() -> Path:
    return Path(settings.CONTENT_STORAGE_DIR)


def temp_root() -> Path:
    """The temp area: on the same filesystem as the store, so a rename moves a file into place."""
    return Path(settings.CONTENT_TEMP_DIR)


def storage_path(checksum: str, extension: str) -> Path:
    return storage_root() / storage_relpath(checksum, extension)


def storage_url(checksum: str, extension: str) -> str:
    return STORAGE_URL_PREFIX + storage_relpath(checksum, extension)
