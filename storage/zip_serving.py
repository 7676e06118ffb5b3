"""Reading one member of a stored zip (HTML5 app, H5P), safely, for the sandbox origin.

The zips come from channels anyone may have made, so nothing in them is trusted:

1. The requested path is checked before it is looked up (`normalise_member_path`): no NUL, no
   backslash, no absolute path, no `.`/`..` or empty segment, bounded length. A bad path is
   simply not found: it never becomes a file system path (members are read out of the
   archive, never extracted).
2. The archive's own names are normalised the same way (`normalise_entry_name`): backslashes
   (old Windows tools) become `/`, `./` and empty segments go; an absolute, drive-letter or
   `..` name is dropped from the index, so no request can name it.
3. Zip bombs: the archive is refused whole when it has more than MAX_ENTRIES entries or its
   entries declare more than MAX_TOTAL_SIZE bytes (overlapping entries, the "better zip bomb",
   each count again); a member is refused when it declares more than MAX_MEMBER_SIZE bytes or,
   above RATIO_CHECK_MIN_SIZE, inflates more than MAX_COMPRESSION_RATIO times. Python's
   zipfile never inflates past the declared size; we count what comes out, and a member that
   gives fewer bytes than declared, or fails its CRC, is a damaged archive.
4. Members up to MEMORY_READ_LIMIT are read whole (and CRC-checked) before anything is sent,
   so a damaged small file is a clean error; larger ones stream in chunks and a failure cuts
   the answer short, which the browser sees as a failed load rather than wrong bytes.

    member = open_zip_member(storage_path(checksum, "zip"), "js/app.js")
    try:
        for chunk in member.body: ...
    finally:
        member.body.close()

Each thread keeps its last few archives open (see ARCHIVES_KEPT_PER_THREAD): a member's body
is read in the thread that opened it.

A path naming a directory gets its `index.html`; without its trailing slash it raises
ZipDirectoryRedirectError so the caller redirects (relative links inside need the slash).

Imports and uploads can refuse such a zip up front, with the same limits, so a zip that passes
also plays: `check_zip_archive(path)` lists the problems in plain words ([] when fine).
"""

from __future__ import annotations

import os
import re
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

MAX_MEMBER_PATH_LENGTH = 1024
MAX_ENTRIES = 50_000
MAX_MEMBER_SIZE = 1024**3
MAX_TOTAL_SIZE = 8 * 1024**3
# Deflate tops out near 1032:1; real HTML, JS and JSON stay well under 100:1. Small members
# are not checked: a 1 MiB bomb does no harm.
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_SIZE = 1024**2
MEMORY_READ_LIMIT = 4 * 1024**2
STREAM_CHUNK_SIZE = 64 * 1024
DIRECTORY_INDEX = "index.html"
# Drive-letter names (`C:/x`) from Windows tools are absolute there.
_DRIVE_PATTERN = re.compile(r"[A-Za-z]:")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class ZipMemberError(Exception):
    """Base of what can go wrong serving a member; each subclass maps to one HTTP answer."""


class InvalidMemberPathError(ZipMemberError):
    """The requested path is not one any member can have (answered as not found)."""


class ZipMemberNotFoundError(ZipMemberError):
    """The archive (or the member in it) does not exist."""


class ZipDirectoryRedirectError(ZipMemberError):
    """The path names a directory without its trailing slash: redirect to `directory`."""

    def __init__(self, directory: str) -> None:
        super().__init__(f"{directory!r} is a directory")
        self.directory = directory


class ZipArchiveRefusedError(ZipMemberError):
    """The archive or the member is beyond the limits above (a zip bomb, or just too big)."""


class DamagedZipArchiveError(ZipMemberError):
    """Not a zip, a CRC failure, or a member shorter than it declares."""


def normalise_member_path(requested: str) -> str:
    """Check a requested member path; '' is the archive's root.

    A trailing slash is kept: it says "a directory", served by its index.html.

        >>> normalise_member_path("js/app.js")
        'js/app.js'
        >>> normalise_member_path("games/")
        'games/'
    """
    if (not isinstance(requested, str) or len(requested) > MAX_MEMBER_PATH_LENGTH
            or "\\" in requested or _CONTROL_CHARACTERS.search(requested)
            or requested.startswith("/")):
        raise InvalidMemberPathError(f"not a member path: {requested!r}")
    if requested == "":
        return ""
    segments = requested.split("/")
    inner = segments[:-1] if segments[-1] == "" else segments
    if any(segment in ("", ".", "..") for segment in inner) or _DRIVE_PATTERN.fullmatch(
            segments[0]):
        raise InvalidMemberPathError(f"not a member path: {requested!r}")
    return requested


def normalise_entry_name(name: str) -> str | None:
    """The name an archive entry is served under, or None when it must never be served.

        >>> normalise_entry_name("./site\\\\index.html")
        'site/index.html'
        >>> normalise_entry_name("../../etc/passwd") is None
        True
    """
    if _CONTROL_CHARACTERS.search(name):
        return None
    unified = name.replace("\\", "/")
    if unified.startswith("/"):
        return None
    segments = [segment for segment in unified.split("/") if segment not in ("", ".")]
    if not segments or ".." in segments or _DRIVE_PATTERN.match(segments[0]):
        return None
    if unified.endswith("/"):
        return None  # a directory entry: directories are served by their index.html
    normalised = "/".join(segments)
    return normalised if len(normalised) <= MAX_MEMBER_PATH_LENGTH else None


@dataclass(frozen=True)
class ZipArchiveIndex:
    """The servable members of an archive by normalised name, after the archive-wide limits."""

    members: dict[str, zipfile.ZipInfo]
    entry_count: int
    total_size: int


def index_archive(archive: zipfile.ZipFile) -> ZipArchiveIndex:
    """Index an open archive; raises ZipArchiveRefusedError beyond MAX_ENTRIES/MAX_TOTAL_SIZE."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ZipArchiveRefusedError(
            f"the archive has {len(infos)} entries; at most {MAX_ENTRIES} are served")
    total_size = sum(info.file_size for info in infos)
    if total_size > MAX_TOTAL_SIZE:
        raise ZipArchiveRefusedError(
            f"the archive declares {total_size} bytes uncompressed; at most {MAX_TOTAL_SIZE}")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = normalise_entry_name(info.filename)
        # The first entry of a name wins, as with unzip; a later duplicate cannot replace it.
        if name is not None and name not in members:
            members[name] = info
    return ZipArchiveIndex(members=members, entry_count=len(infos), total_size=total_size)


def check_member_info(info: zipfile.ZipInfo) -> None:
    """Refuse a member too big, too compressed or encrypted to serve."""
    if info.file_size > MAX_MEMBER_SIZE:
        raise ZipArchiveRefusedError(
            f"{info.filename!r} declares {info.file_size} bytes; at most {MAX_MEMBER_SIZE}")
    if (info.file_size > RATIO_CHECK_MIN_SIZE
            and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
        raise ZipArchiveRefusedError(
            f"{info.filename!r} inflates {info.file_size} bytes from {info.compress_size}; "
            f"more than {MAX_COMPRESSION_RATIO} times is refused")
    if info.flag_bits & 0x1:
        raise ZipArchiveRefusedError(f"{info.filename!r} is encrypted")


def resolve_member_name(index: ZipArchiveIndex, requested: str) -> str:
    """The member a (normalised) request names: the file, or a directory's index.html."""
    if requested == "" or requested.endswith("/"):
        candidate = requested + DIRECTORY_INDEX
        if candidate in index.members:
            return candidate
        raise ZipMemberNotFoundError(f"no {candidate!r} in the archive")
    if requested in index.members:
        return requested
    if f"{requested}/{DIRECTORY_INDEX}" in index.members:
        raise ZipDirectoryRedirectError(requested + "/")
    raise ZipMemberNotFoundError(f"no {requested!r} in the archive")


class MemberBody:
    """The bytes of one member as an iterable for a WSGI answer.

    Counts what it yields: fewer bytes than declared is a damaged archive (zipfile itself
    stops at the declared size, so more can never come out). `select(start, length)` before
    iterating gives one byte range instead (a video inside an app seeks with Range); zipfile
    checks the CRC when a read reaches the member's end. `close()` (the server calls it, also
    when the client went away) closes the member; the archive stays in the thread's cache.
    """

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                 preloaded: bytes | None = None) -> None:
        self.archive = archive
        self.info = info
        self.preloaded = preloaded
        self.start = 0
        self.length = info.file_size
        self._reading: Generator[bytes, None, None] | None = None

    def select(self, start: int, length: int) -> None:
        if start < 0 or length < 0 or start + length > self.info.file_size:
            raise ValueError(f"bytes {start}+{length} are outside {self.info.file_size}")
        self.start, self.length = start, length

    def __iter__(self) -> Iterator[bytes]:
        if self.preloaded is not None:
            return iter([self.preloaded[self.start:self.start + self.length]])
        self._reading = self._read()
        return self._reading

    def _read(self) -> Generator[bytes, None, None]:
        produced = 0
        try:
            with self.archive.open(self.info) as member_file:
                if self.start:
                    # Deflated data cannot be entered midway: zipfile inflates up to `start`.
                    member_file.seek(self.start)
                for chunk in _chunks(member_file, self.length):
                    produced += len(chunk)
                    yield chunk
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError,
                ValueError) as error:
            raise DamagedZipArchiveError(f"{self.info.filename!r}: {error}") from error
        if produced != self.length:
            raise DamagedZipArchiveError(
                f"{self.info.filename!r} gave {produced} bytes, declares {self.length}"
                + (f" from byte {self.start}" if self.start else ""))

    def close(self) -> None:
        if self._reading is not None:
            self._reading.close()


def _chunks(member_file: IO[bytes], length: int) -> Iterator[bytes]:
    remaining = length
    while remaining > 0:
        chunk = member_file.read(min(STREAM_CHUNK_SIZE, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


@dataclass(frozen=True)
class OpenedZipMember:
    name: str
    size: int
    crc: int
    body: MemberBody


# Opening a zip parses its whole central directory (18 ms for 5,000 entries here), which
# would be paid again by each of the hundreds of requests one app's page makes. Each server
# thread keeps its last few archives open. A ZipFile is used only by the thread that opened it
# (zipfile's shared file position is not safe across threads), and that is the thread that
# reads the body: waitress and cheroot iterate an answer in the worker thread that made it.
ARCHIVES_KEPT_PER_THREAD = 3
_per_thread = threading.local()
ArchiveKey = tuple[str, int, int, int]


def _thread_archives() -> OrderedDict[ArchiveKey, tuple[zipfile.ZipFile, ZipArchiveIndex]]:
    archives = getattr(_per_thread, "archives", None)
    if archives is None:
        archives = _per_thread.archives = OrderedDict()
    return archives


def _open_archive(archive_path: Path) -> tuple[zipfile.ZipFile, ZipArchiveIndex]:
    """The archive and its index, from this thread's cache or opened and indexed now."""
    archives = _thread_archives()
    try:
        stat = os.stat(archive_path)
    except FileNotFoundError as error:
        for key in [key for key in archives if key[0] == str(archive_path)]:
            archives.pop(key)[0].close()  # deleted (the collector): let its space go
        raise ZipMemberNotFoundError(f"no archive at {archive_path}") from error
    key = (str(archive_path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key in archives:
        archives.move_to_end(key)
        return archives[key]
    try:
        archive = zipfile.ZipFile(archive_path)
    except FileNotFoundError as error:
        raise ZipMemberNotFoundError(f"no archive at {archive_path}") from error
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise DamagedZipArchiveError(f"{archive_path} is not a readable zip: {error}") from error
    try:
        index = index_archive(archive)
    except BaseException:
        archive.close()
        raise
    archives[key] = (archive, index)
    while len(archives) > ARCHIVES_KEPT_PER_THREAD:
        archives.popitem(last=False)[1][0].close()
    return archive, index


def forget_open_archives() -> None:
    """Close the archives this thread keeps open (tests; a thread that is done)."""
    archives = _thread_archives()
    while archives:
        archives.popitem()[1][0].close()


def open_zip_member(archive_path: Path, requested: str) -> OpenedZipMember:
    """Find and open one member of the zip at `archive_path`; see the module doc.

    The caller iterates `body` (or closes it), in this thread.
    """
    requested = normalise_member_path(requested)
    archive, index = _open_archive(archive_path)
    name = resolve_member_name(index, requested)
    info = index.members[name]
    check_member_info(info)
    preloaded = None
    if info.file_size <= MEMORY_READ_LIMIT:
        preloaded = _read_small_member(archive, info)
    return OpenedZipMember(name=name, size=info.file_size, crc=info.CRC,
                           body=MemberBody(archive, info, preloaded))


def _read_small_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as member_file:
            data = member_file.read(MEMORY_READ_LIMIT + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
        raise DamagedZipArchiveError(f"{info.filename!r}: {error}") from error
    if len(data) != info.file_size:
        raise DamagedZipArchiveError(
            f"{info.filename!r} gave {len(data)} bytes, declares {info.file_size}")
    return data


MAX_PROBLEMS_LISTED = 10


def check_zip_archive(archive_path: Path, *, require_index: bool = True) -> list[str]:
    """Why an import or upload should refuse this zip (issue 6), in plain words; [] if none.

    Checks what serving would refuse: not a zip, too many entries or bytes, a member too big
    or too compressed, encrypted members; and what would never be served: names that are
    absolute or climb out with `..`. With `require_index`, `index.html` must be at the top.
    Members are not inflated (the file's checksum already vouches for its bytes).
    """
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return [f"not a readable zip file ({error})"]
    with archive:
        try:
            index = index_archive(archive)
        except ZipArchiveRefusedError as error:
            return [str(error)]
        problems = []
        unsafe = [info.filename for info in archive.infolist()
                  if not info.is_dir() and normalise_entry_name(info.filename) is None]
        if unsafe:
            problems.append(f"{len(unsafe)} file name(s) are absolute or climb out of the "
                            f"archive with '..', e.g. {unsafe[0]!r}")
        for info in index.members.values():
            try:
                check_member_info(info)
            except ZipArchiveRefusedError as error:
                problems.append(str(error))
        if require_index and DIRECTORY_INDEX not in index.members:
            problems.append(f"no {DIRECTORY_INDEX} at the top of the archive")
    return problems[:MAX_PROBLEMS_LISTED]
