"""The backup archive's format: member names, the manifest, and hashing while copying.

One uncompressed tar (media is compressed already, and a Raspberry Pi has little CPU to spare),
written and read as a stream. Members, each a regular file:

    database/default.sqlite3 | database/default.pgdump     the default database
    certificates/<certificate id>-<md5>.pdf                 certificates' PDFs
    uploads/<partial name>                                  uploads in flight of live drafts
    versions/<channel_id>/<number>.sqlite3                  kept channel versions
    storage/<c0>/<c1>/<md5>.<ext>                           stored files they reference
    home/secret_key | home/settings.toml | home/tls/<name>  this server's own keys and settings
    manifest.json                                           last: what is inside, with SHA-256s

The manifest comes last because the checksums are known only once every member is written;
restore extracts into a staging folder while hashing, then checks everything against it before
anything is put in place. Every name is matched with `re.fullmatch` before a path is built.

    kind, parts = classify_member("versions/<channel_id>/3.sqlite3")   # ("version", (...))
    kind, parts = classify_member("home/tls/ca.key")                   # ("home", ("tls/ca.key",))
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from storage.paths import InvalidStorageNameError, parse_storage_relpath

FORMAT_NAME = "kolibri-like-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 512 * 1024**2
CHUNK_SIZE = 1024 * 1024

DATABASE_MEMBER = {"sqlite": "database/default.sqlite3", "postgresql": "database/default.pgdump"}
_CERTIFICATE = re.compile(r"certificates/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                          r"[0-9a-f]{12})-([0-9a-f]{32})\.pdf")
_UPLOAD = re.compile(r"uploads/([A-Za-z0-9][A-Za-z0-9._-]{0,99})")
_VERSION = re.compile(r"versions/([0-9a-f]{32})/([0-9]{1,9})\.sqlite3")
# What KOLIBRI_LIKE_HOME holds that exists nowhere else: the key sessions are signed with, the
# admin's settings, and the --https authority and certificate that tablets were told to trust.
_HOME = re.compile(r"home/(secret_key|settings\.toml|tls/[A-Za-z0-9][A-Za-z0-9._-]{0,99})")
HOME_MEMBER_PREFIX = "home/"


class CorruptArchiveError(Exception):
    """Not a backup of ours, damaged, or not matching its manifest (exit 4)."""

    exit_code = 4


def classify_member(name: str) -> tuple[str, tuple[str, ...]]:
    """(kind, parts) of an archive member name; CorruptArchiveError for any other name."""
    if name == MANIFEST_NAME:
        return "manifest", ()
    for vendor, member in DATABASE_MEMBER.items():
        if name == member:
            return "database", (vendor,)
    if match := _CERTIFICATE.fullmatch(name):
        return "certificate", match.groups()
    if match := _UPLOAD.fullmatch(name):
        return "upload", match.groups()
    if match := _VERSION.fullmatch(name):
        return "version", match.groups()
    if match := _HOME.fullmatch(name):
        return "home", match.groups()
    if name.startswith("storage/"):
        try:
            checksum, extension = parse_storage_relpath(name.removeprefix("storage/"))
        except InvalidStorageNameError:
            pass
        else:
            return "stored", (checksum, extension)
    raise CorruptArchiveError(f"the archive holds {name!r}, which no backup of ours contains")


@dataclass
class Manifest:
    created_at: str
    kolibri_like_version: str
    database_vendor: str
    include_imported: bool
    migrations: dict[str, str] = field(default_factory=dict)
    channels: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Referenced in the database but absent on disk when the backup ran (said, not hidden).
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                "created_at": self.created_at, "kolibri_like_version": self.kolibri_like_version,
                "database_vendor": self.database_vendor, "include_imported": self.include_imported,
                "migrations": self.migrations, "channels": self.channels, "files": self.files,
                "missing": self.missing}

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise CorruptArchiveError("the archive's manifest is not a kolibri-like backup's")
        if data.get("format_version") != FORMAT_VERSION:
            raise CorruptArchiveError(f"backup format {data.get('format_version')!r} is not "
                                      f"one this version reads ({FORMAT_VERSION})")
        try:
            files = {str(name): {"sha256": str(entry["sha256"]), "size": int(entry["size"])}
                     for name, entry in dict(data["files"]).items()}
            manifest = cls(created_at=str(data["created_at"]),
                           kolibri_like_version=str(data["kolibri_like_version"]),
                           database_vendor=str(data["database_vendor"]),
                           include_imported=bool(data["include_imported"]),
                           migrations=dict(data.get("migrations") or {}),
                           channels=list(data.get("channels") or []), files=files,
                           missing=[str(item) for item in data.get("missing") or []])
        except (KeyError, TypeError, ValueError) as error:
            raise CorruptArchiveError(f"the archive's manifest is damaged ({error})") from None
        if manifest.database_vendor not in DATABASE_MEMBER:
            raise CorruptArchiveError(f"unknown database kind {manifest.database_vendor!r}")
        return manifest


class HashingReader:
    """A file object that hashes what is read through it (tarfile reads members' bytes)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.sha256.update(chunk)
        self.size += len(chunk)
        return chunk


def copy_hashing(source: IO[bytes], target: IO[bytes],
                 on_bytes: Callable[[int], None] | None = None) -> tuple[str, int]:
    """Copy all of `source` into `target`; return (SHA-256, size)."""
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
        if on_bytes is not None:
            on_bytes(len(chunk))
    return digest.hexdigest(), size
