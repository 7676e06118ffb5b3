"""Channels from a peer server of ours on the LAN, over HTTP (INTERFACE.md):

    GET <peer>/api/channels/                          the channels it serves, with versions
    GET <peer>/content/databases/<channel_id>.sqlite3 a channel's current database
    GET <peer>/content/storage/<c0>/<c1>/<md5>.<ext>  a file (Range requests resume it)

Downloads go into `<name>.part` files in the temp area, named by what they hold, so a re-run
after Ctrl-C, a dropped connection or a reboot continues where it stopped. Every file is
verified (MD5) as it is stored; a database is checked as one from a drive is. A write to our
own disk that fails (full: exit 5; an I/O error: exit 6) removes the `.part` it was writing:
its bytes are not known to be good.

    list_peer_channels("http://192.168.1.10:8000")
    import_channel_from_network(channel_id, "http://192.168.1.10:8000")
    import_content_from_network(channel_id, "http://192.168.1.10:8000", node_ids=[...])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channels.errors import InvalidChannelDatabaseError
from channels.transfer.base import (
    NO_PROGRESS,
    ChannelImportResult,
    ContentImportResult,
    FileUnavailableError,
    ProgressSink,
    check_version_offered,
    install_database,
    installed_versions,
    is_newer,
    local_write_error,
)
from channels.transfer.errors import (
    BadTransferArgumentError,
    ChannelNotOnSourceError,
    DiskFullError,
    PeerAnswerError,
    TransferError,
)
from channels.transfer.imports import run_content_import
from channels.transfer.locking import import_lock
from channels.transfer.peer_http import (
    PeerFileNotFoundError,
    discard_part,
    download,
    get_json,
    normalize_base_url,
)
from channels.transfer.selection import FileRef
from kolibri_like.crashpoints import crash_point
from routers.ids import is_valid_channel_id
from storage.batch import StoreBatch
from storage.files import ChecksumMismatchError
from storage.paths import temp_root

MAX_LIST_PAGES = 100


@dataclass(frozen=True)
class PeerChannel:
    id: str
    name: str
    description: str
    version: int
    version_label: str
    total_size: int
    node_count: int
    installed_version: int | None
    is_newer: bool
    thumbnail: str = ""


def _label(base: str) -> str:
    return f"the server at {base}"


def list_peer_channels(base_url: str) -> list[PeerChannel]:
    """The channels the peer serves, each with whether it is newer than ours."""
    base = normalize_base_url(base_url)
    url: str | None = f"{base}/api/channels/?page_size=1000"
    found: list[PeerChannel] = []
    for _page in range(MAX_LIST_PAGES):
        if url is None:
            break
        try:
            page = get_json(url, _label(base))
        except PeerFileNotFoundError:
            raise PeerAnswerError(f"{base} has no /api/channels/; is it a server of ours?") \
                from None
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise PeerAnswerError(f"{base}/api/channels/ is not a channel list")
        for item in page["results"]:
            listed = _peer_channel(item, base)
            found.append(listed)
        next_url = page.get("next")
        # Follow only links to the same server (a peer cannot send us elsewhere).
        url = next_url if isinstance(next_url, str) and next_url.startswith(base + "/") \
            else None
    return found


def _peer_channel(item: Any, base: str) -> PeerChannel:
    if not isinstance(item, dict) or not is_valid_channel_id(item.get("id")) \
            or not isinstance(item.get("version"), int):
        raise PeerAnswerError(f"{base}/api/channels/ lists a malformed channel: {item!r:.200}")
    channel_id, version = item["id"], int(item["version"])
    return PeerChannel(
        id=channel_id, name=str(item.get("name") or ""),
        description=str(item.get("description") or ""), version=version,
        version_label=str(item.get("version_label") or ""),
        total_size=int(item.get("total_size") or 0), node_count=int(item.get("node_count") or 0),
        installed_version=installed_versions(channel_id)[0],
        is_newer=is_newer(channel_id, version), thumbnail=str(item.get("thumbnail") or ""))


def find_peer_channel(channel_id: str, base: str) -> PeerChannel:
    """The peer's entry for the channel: ChannelNotOnSourceError (exit 3) if it has none."""
    try:
        item = get_json(f"{base}/api/channels/{channel_id}/", _label(base))
    except PeerFileNotFoundError:
        raise ChannelNotOnSourceError(channel_id, _label(base),
                                      f"`listchannels network {base}` shows what it serves") \
            from None
    return _peer_channel(item, base)


def import_channel_from_network(channel_id: str, base_url: str, *,
                                progress: ProgressSink | None = None,
                                created_by: Any = None,
                                full_check: bool = False) -> ChannelImportResult:
    """Download the peer's current database of the channel and install it if it is newer.

    The version is compared before downloading; a download stopped half way resumes. A part
    that was resumed and then fails the checks is downloaded whole once more (it may hold the
    start of another build of the same version number).
    """
    _check_channel_id(channel_id)
    base = normalize_base_url(base_url)
    progress = progress or NO_PROGRESS
    with import_lock(channel_id):
        offered = find_peer_channel(channel_id, base)
        previous = installed_versions(channel_id)[0]
        if not check_version_offered(channel_id, offered.version):
            return ChannelImportResult(channel_id, offered.name, offered.version, False,
                                       previous, f"network {base}")
        temp_dir = temp_root()
        temp_dir.mkdir(parents=True, exist_ok=True)
        part = temp_dir / f"network-{channel_id}-{offered.version}.sqlite3.part"
        url = f"{base}/content/databases/{channel_id}.sqlite3"
        for attempt in range(2):
            resumed = part.is_file() and part.stat().st_size > 0
            _download_database(url, part, base, progress)
            crash_point("network.database_downloaded")
            try:
                result = install_database(part, channel_id, source_label=f"network {base}",
                                          created_by=created_by, full_check=full_check)
            except InvalidChannelDatabaseError:
                discard_part(part)
                if resumed and attempt == 0:
                    continue
                raise
            except TransferError:
                discard_part(part)  # not newer after all: the peer published meanwhile
                raise
            discard_part(part)  # still there if it was not installed
            return result
        raise AssertionError("unreachable: the second attempt returns or raises")


def _download_database(url: str, part: Path, base: str, progress: ProgressSink) -> None:
    done = 0

    def on_bytes(count: int) -> None:
        nonlocal done
        done += count
        progress.update("database", done, done)

    try:
        _download(url, part, limit=None, on_bytes=on_bytes, label=_label(base))
    except PeerFileNotFoundError:
        raise ChannelNotOnSourceError(url.rsplit("/", 1)[-1].split(".")[0], _label(base),
                                      "it stopped serving it") from None


def _download(url: str, part: Path, *, limit: int | None, on_bytes: Callable[[int], None],
              label: str) -> int:
    """`download`, where a failure to write our own disk removes the part and its ETag."""
    try:
        return download(url, part, limit=limit, on_bytes=on_bytes, label=label)
    except DiskFullError:
        discard_part(part)
        raise
    except OSError as error:  # the peer's errors are TransferErrors: this is our disk
        discard_part(part)
        raise local_write_error(error) from error


class PeerFiles:
    """The `FileStore` of a peer: each file downloaded into a resumable `.part`, then stored
    with its MD5 checked."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.label = _label(base)

    def store(self, ref: FileRef, on_bytes: Callable[[int], None], batch: StoreBatch) -> int:
        part = temp_root() / f"network-{ref.checksum}.{ref.extension}.part"
        url = f"{self.base}/content/storage/{ref.relpath}"
        received = 0
        for attempt in range(2):
            resumed = part.is_file() and part.stat().st_size > 0
            try:
                received += _download(url, part, limit=ref.size, on_bytes=on_bytes,
                                      label=self.label)
            except PeerFileNotFoundError:
                discard_part(part)
                raise FileUnavailableError("not on the peer") from None
            except PeerAnswerError as problem:
                discard_part(part)
                raise FileUnavailableError(str(problem)) from None
            crash_point("network.file_downloaded")
            try:
                batch.stage(part, ref.extension, expected_checksum=ref.checksum)
            except ChecksumMismatchError:
                discard_part(part)
                if resumed and attempt == 0:
                    continue  # the kept part was stale: fetch the whole file once more
                raise
            except OSError as error:
                discard_part(part)
                raise local_write_error(error) from error
            discard_part(part)
            return received
        raise AssertionError("unreachable: the second attempt returns or raises")


def import_content_from_network(channel_id: str, base_url: str, *,
                                node_ids: list[str] | None = None,
                                exclude_node_ids: list[str] | None = None,
                                progress: ProgressSink | None = None) -> ContentImportResult:
    """Download the files of the installed channel (or of the chosen subtrees) from the peer.

    The node list comes from this server's copy of the database (imported from the peer);
    a file the peer does not have, or sends damaged, is skipped and reported (exit 4).
    """
    _check_channel_id(channel_id)
    base = normalize_base_url(base_url)
    find_peer_channel(channel_id, base)
    return run_content_import(
        channel_id, kind="network", source=base, store=PeerFiles(base),
        import_hint=f"kolibri-like importchannel network {channel_id} {base}",
        node_ids=node_ids, exclude_node_ids=exclude_node_ids,
        roots_on_source=lambda version: None, progress=progress,
        # A file is in the temp area twice at most: its .part and the copy put_file makes.
        extra_space=lambda sizes: max(sizes, default=0))


def _check_channel_id(channel_id: str) -> None:
    if not is_valid_channel_id(channel_id):
        raise BadTransferArgumentError(
            f"not a channel id (32 lowercase hex characters): {channel_id!r}")
