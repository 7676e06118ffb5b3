"""`kolibri-like backup`: one archive of everything that exists nowhere else, taken while the
server runs (operations.archive describes the format).

1. Snapshot the default database (operations.database): users, progress, attempts, drafts, the
   channel registry. Everything else is chosen from the snapshot, never from the live database,
   so the archive is one consistent state: a version created after the snapshot is not in it,
   and every file the snapshot refers to is.
2. Choose: kept versions of channels authored here (source "draft <id>" or "published"; with
   `include_imported`, every version) and the stored files they list; stored files of live
   drafts; partial uploads of live drafts; ready certificates' PDFs; from KOLIBRI_LIKE_HOME,
   the secret key, settings.toml and the --https certificates and keys in tls/ (`home_files`).
3. Check the free space at the target, then stream everything into `<target>.partial` (each
   file read once, hashed while read), the manifest last; sync, rename to the target. Stored
   files are read under the store's shared write lock, so the collector deletes none meanwhile.

A file the snapshot refers to but which is gone from disk is listed in the manifest's `missing`
and reported; it does not stop the backup.

    result = create_backup(Path("/media/usb/school.tar"), include_imported=False, progress=print)
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import tarfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings

from operations.archive import (
    DATABASE_MEMBER,
    MANIFEST_NAME,
    CorruptArchiveError,
    HashingReader,
    Manifest,
    classify_member,
)
from operations.database import (  # noqa: F401 - backup_default_database is this module's API
    backup_default_database,
    database_vendor,
    ensure_database_reachable,
    open_snapshot,
)
from operations.health import format_bytes, free_bytes

__all__ = ["backup_default_database", "create_backup", "default_backup_path", "BackupResult"]

AUTHORED_SOURCE_PREFIXES = ("draft ", "published")
LIVE_DRAFT_STATES = "('open', 'publishing')"
# Room kept free beyond the archive's size, so the backup never fills the disk to the last byte.
FREE_SPACE_MARGIN_BYTES = 64 * 1024**2
PROGRESS_EVERY_SECONDS = 2.0
Progress = Callable[[str], None]


class BackupTargetExistsError(Exception):
    exit_code = 7


class NotEnoughSpaceError(Exception):
    exit_code = 5


@dataclass
class BackupResult:
    path: Path
    manifest: Manifest
    size: int


@dataclass
class BackupPlan:
    """(member name, path on disk) of every file, in archive order, and the channel summary."""

    files: list[tuple[str, Path]] = field(default_factory=list)
    stored: list[tuple[str, Path]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)


def kolibri_like_version() -> str:
    try:
        return metadata.version("kolibri-like")
    except metadata.PackageNotFoundError:
        return "unknown"


def default_backup_path(now: dt.datetime | None = None) -> Path:
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.HOME) / "backups" / f"kolibri-like-backup-{stamp}.tar"


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        loaded = json.loads(value or "{}")
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _stored_member(checksum: str, extension: str) -> tuple[str, Path] | None:
    from storage.paths import InvalidStorageNameError, storage_path, storage_relpath

    try:
        return f"storage/{storage_relpath(checksum, extension)}", storage_path(checksum, extension)
    except InvalidStorageNameError:
        return None


def plan_backup(rows: Callable[[str], list[tuple[Any, ...]]], *,
                include_imported: bool) -> BackupPlan:
    """What to archive, read from the snapshot (`rows` runs SQL on it); see the module doc."""
    from authoring.uploads_area import uploads_dir
    from channels.versions import version_database_path
    from learning.certificates import certificate_pdf_path
    from routers.registry import channel_database_path

    plan = BackupPlan()
    stored: dict[str, tuple[str, Path]] = {}
    chosen: dict[int, tuple[str, int]] = {}
    channels: dict[str, dict[str, Any]] = {}
    for version_pk, channel_id, number, source, name, current in rows(
            "SELECT v.id, v.channel_id, v.number, v.source, c.name, c.version "
            "FROM channels_channelversion v JOIN channels_channel c ON c.id = v.channel_id "
            "ORDER BY v.channel_id, v.number"):
        authored = str(source).startswith(AUTHORED_SOURCE_PREFIXES)
        if not (authored or include_imported):
            continue
        chosen[version_pk] = (channel_id, number)
        entry = channels.setdefault(channel_id, {"id": channel_id, "name": name, "current": current,
                                                 "versions": [], "authored_versions": []})
        entry["versions"].append(number)
        if authored:
            entry["authored_versions"].append(number)
        path = version_database_path(channel_id, number)
        if not path.is_file() and number == current:
            path = channel_database_path(channel_id)  # recover re-makes the kept copy from it
        plan.files.append((f"versions/{channel_id}/{number}.sqlite3", path))
    plan.channels = list(channels.values())
    for version_pk, checksum, extension in rows(
            "SELECT version_id, checksum, extension FROM channels_channelversionfile"):
        if version_pk in chosen and checksum not in stored:
            if member := _stored_member(checksum, extension):
                stored[checksum] = member
    for checksum, extension, outputs in rows(
            "SELECT f.checksum, f.extension, f.outputs FROM authoring_draftfile f "
            "JOIN authoring_draft d ON d.id = f.draft_id "
            f"WHERE d.state IN {LIVE_DRAFT_STATES} OR (d.state = 'published' "
            "AND d.awaiting_encodes AND f.state = 'Processing')"):
        # A video's outputs are keyed by their extension ("mp4": md5, ...), plus "duration".
        wanted = [(checksum, extension)] + [(value, key) for key, value in
                                            _as_dict(outputs).items() if key != "duration"]
        for file_checksum, file_extension in wanted:
            if isinstance(file_checksum, str) and file_checksum and file_checksum not in stored:
                if member := _stored_member(file_checksum, str(file_extension)):
                    stored[file_checksum] = member
    plan.stored = sorted(stored.values())
    for (partial_name,) in rows(
            "SELECT u.partial_name FROM authoring_uploadrecord u "
            "JOIN authoring_draftfile f ON f.id = u.draft_file_id "
            "JOIN authoring_draft d ON d.id = f.draft_id "
            f"WHERE u.completed_at IS NULL AND d.state IN {LIVE_DRAFT_STATES}"):
        name = Path(str(partial_name)).name
        plan.files.append((f"uploads/{name}", uploads_dir() / name))
    for certificate_id, checksum in rows(
            "SELECT id, checksum FROM learning_certificate "
            "WHERE state = 'ready' AND checksum <> ''"):
        dashed = str(uuid.UUID(str(certificate_id)))
        try:
            path = certificate_pdf_path(dashed, str(checksum))
        except ValueError:
            continue
        plan.files.append((f"certificates/{path.name}", path))
    plan.files.extend(home_files())
    return plan


HOME_FILES = ("secret_key", "settings.toml")
TLS_FOLDER = "tls"


def home_files(home: Path | None = None) -> list[tuple[str, Path]]:
    """(member name, path) of the files of KOLIBRI_LIKE_HOME that exist nowhere else: the
    secret key (sessions, password-reset links), settings.toml, and every file in tls/ (the
    authority tablets trust and the server's certificate and keys). Names outside the archive
    format (operations.archive) are left out rather than refused."""
    home = Path(home if home is not None else settings.HOME)
    found = [(f"home/{name}", home / name) for name in HOME_FILES if (home / name).is_file()]
    folder = home / TLS_FOLDER
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            member = f"home/{TLS_FOLDER}/{path.name}"
            if path.is_file() and not path.is_symlink() and _is_member_name(member):
                found.append((member, path))
    return found


def _is_member_name(member: str) -> bool:
    try:
        return classify_member(member)[0] == "home"
    except CorruptArchiveError:
        return False


class _ArchiveWriter:
    """Adds files to a streamed tar, hashing each, and reports progress now and then."""

    def __init__(self, tar: tarfile.TarFile, manifest: Manifest, total_files: int,
                 total_bytes: int, progress: Progress) -> None:
        self.tar, self.manifest, self.progress = tar, manifest, progress
        self.total_files, self.total_bytes = total_files, total_bytes
        self.done_files = self.done_bytes = 0
        self._last_report = time.monotonic()

    def add(self, member: str, path: Path) -> None:
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            self.manifest.missing.append(member)
            self.progress(f"warning: {path} is gone; {member} is not in the backup")
            return
        with handle:
            status = os.fstat(handle.fileno())
            info = tarfile.TarInfo(member)
            info.size, info.mtime, info.mode = status.st_size, int(status.st_mtime), 0o600
            reader = HashingReader(handle)
            # Exactly `size` bytes are read: an upload still growing is taken as it was here.
            self.tar.addfile(info, reader)  # type: ignore[arg-type]
        self.manifest.files[member] = {"sha256": reader.sha256.hexdigest(), "size": info.size}
        self.done_files += 1
        self.done_bytes += info.size
        if time.monotonic() - self._last_report >= PROGRESS_EVERY_SECONDS:
            self._last_report = time.monotonic()
            self.report()

    def report(self) -> None:
        self.progress(f"backup: {self.done_files} of {self.total_files} files, "
                      f"{format_bytes(self.done_bytes)} of {format_bytes(self.total_bytes)}")

    def add_bytes(self, member: str, data: bytes) -> None:
        info = tarfile.TarInfo(member)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
        self.tar.addfile(info, io.BytesIO(data))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def create_backup(target: Path | None = None, *, include_imported: bool = False,
                  progress: Progress = lambda line: None) -> BackupResult:
    """Write the archive (see the module doc); returns where, with its manifest."""
    from storage.gc import store_write_lock

    target = Path(target) if target is not None else default_backup_path()
    if target.exists():
        raise BackupTargetExistsError(f"{target} already exists; name another file")
    ensure_database_reachable()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    vendor = database_vendor()
    manifest = Manifest(created_at=dt.datetime.now(dt.timezone.utc).isoformat(),
                        kolibri_like_version=kolibri_like_version(), database_vendor=vendor,
                        include_imported=include_imported)
    try:
        with open_snapshot(target.parent) as snapshot:
            progress(f"backup: copied the default database ({format_bytes(_size(snapshot.path))})")
            for app, name in snapshot.rows("SELECT app, name FROM django_migrations "
                                           "ORDER BY app, name"):
                manifest.migrations[app] = name
            plan = plan_backup(snapshot.rows, include_imported=include_imported)
            manifest.channels = plan.channels
            everything = [(DATABASE_MEMBER[vendor], snapshot.path), *plan.files, *plan.stored]
            total = sum(_size(path) for _member, path in everything)
            available = free_bytes(target.parent)
            if available < total + FREE_SPACE_MARGIN_BYTES:
                raise NotEnoughSpaceError(
                    f"the backup needs about {format_bytes(total)} but {target.parent} has "
                    f"{format_bytes(available)} free; choose another place")
            with open(partial, "wb") as output:
                with tarfile.open(fileobj=output, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    writer = _ArchiveWriter(tar, manifest, len(everything), total, progress)
                    for member, path in [(DATABASE_MEMBER[vendor], snapshot.path), *plan.files]:
                        writer.add(member, path)
                    with store_write_lock(shared=True):
                        for member, path in plan.stored:
                            writer.add(member, path)
                    writer.report()
                    writer.add_bytes(MANIFEST_NAME, json.dumps(manifest.as_dict(), indent=1,
                                                               sort_keys=True).encode())
                output.flush()
                os.fsync(output.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, manifest, target.stat().st_size)
