"""`kolibri-like restore <file>`: bring a backup back onto this home (usually a fresh machine).

1. Refuse while a server or consumer uses this home (exit 7; operations.running), and refuse a
   home that holds data unless `force` (exit 7), or unless a restore there was cut short
   (`restore-in-progress` in the home): running it again finishes it. A missing file exits 3.
2. Extract the stream into a staging folder in the temp area (same filesystem as CONTENT_DIR),
   hashing every member; then check the manifest: every member listed, every SHA-256 equal,
   no name outside the format (exit 4 otherwise). Nothing in the home has changed so far.
3. Move the files into place (each already synced; rename, then sync its folder): stored files,
   kept channel versions, certificates, uploads, and the home's own files (`place_home_files`:
   secret key, settings.toml, tls/, key files 0600). Then the default database: SQLite by file
   replace; PostgreSQL by `pg_restore` into an empty database (a database with tables is
   refused even with `force`: create a new one and point DATABASE_URL at it).
4. `migrate` (a backup from an older version), then start-up recovery, which makes each
   channel's current version served again from its kept copy. Imported channels left out of
   the backup (no `--all`) are reported by recovery: import them again.

    result = restore_backup(Path("school.tar"), force=False, progress=print)
    result.repairs, result.left
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from operations.archive import (
    DATABASE_MEMBER,
    MAX_MANIFEST_BYTES,
    CorruptArchiveError,
    Manifest,
    classify_member,
    copy_hashing,
)
from operations.database import (
    database_has_tables,
    ensure_database_reachable,
    restore_default_database,
)
from operations.health import format_bytes, free_bytes
from operations.running import processes_using_home

PROGRESS_EVERY_SECONDS = 2.0
FREE_SPACE_MARGIN_BYTES = 64 * 1024**2
Progress = Callable[[str], None]


class ArchiveNotFoundError(Exception):
    exit_code = 3


class HomeInUseError(Exception):
    """A server runs on this home, or the home holds data (exit 7: conflict)."""

    exit_code = 7


class NotEnoughSpaceError(Exception):
    exit_code = 5


@dataclass
class StagedMember:
    kind: str
    parts: tuple[str, ...]
    path: Path
    sha256: str
    size: int


@dataclass
class RestoreResult:
    manifest: Manifest
    repairs: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def _has_files(folder: Path) -> bool:
    if not folder.is_dir():
        return False
    return any(files for _root, _dirs, files in os.walk(folder))


def restore_marker() -> Path:
    """Present from the first file put in place until recovery ends: a restore cut short (Ctrl-C,
    power cut) leaves it, and running the same restore again needs no --force."""
    return Path(settings.HOME) / "restore-in-progress"


def home_contents() -> list[str]:
    """What in this home a restore would overwrite (empty: a fresh home, or one whose restore
    was cut short)."""
    from authoring.uploads_area import uploads_dir
    from learning.certificates import private_certificates_root

    found: list[str] = []
    if restore_marker().exists():
        return found
    if database_has_tables():
        found.append("the default database has tables")
    for folder in (Path(settings.CONTENT_DATABASE_DIR), Path(settings.CONTENT_STORAGE_DIR),
                   private_certificates_root(), uploads_dir()):
        if _has_files(folder):
            found.append(f"{folder} holds files")
    return found


def extract_archive(archive: Path, staging: Path,
                    progress: Progress) -> tuple[Manifest, dict[str, StagedMember]]:
    """Stream the archive into `staging`, then check it against its manifest (module doc, 2)."""
    staged: dict[str, StagedMember] = {}
    manifest_data: bytes | None = None
    last_report, done_bytes = time.monotonic(), 0
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                kind, parts = classify_member(member.name)
                if not member.isreg() or member.name in staged or (
                        kind == "manifest" and manifest_data is not None):
                    raise CorruptArchiveError(f"{member.name} is not a single regular file")
                source = tar.extractfile(member)
                assert source is not None
                if kind == "manifest":
                    if member.size > MAX_MANIFEST_BYTES:
                        raise CorruptArchiveError("the manifest is implausibly large")
                    manifest_data = source.read()
                    continue
                target = staging / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                # Keys are never readable by others, not even while staged.
                mode = 0o600 if kind == "home" else 0o666
                with open(target, "wb",
                          opener=lambda path, flags, mode=mode: os.open(path, flags, mode)
                          ) as output:
                    sha256, size = copy_hashing(source, output)
                    output.flush()
                    os.fsync(output.fileno())
                staged[member.name] = StagedMember(kind, parts, target, sha256, size)
                done_bytes += size
                if time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
                    last_report = time.monotonic()
                    progress(f"restore: read {len(staged)} files, {format_bytes(done_bytes)}")
    except (tarfile.TarError, EOFError) as error:
        raise CorruptArchiveError(f"{archive} is not a whole backup archive ({error})") from None
    if manifest_data is None:
        raise CorruptArchiveError(f"{archive} has no manifest: it is cut short or not a backup")
    try:
        manifest = Manifest.from_dict(json.loads(manifest_data))
    except ValueError as error:
        raise CorruptArchiveError(f"the manifest is not valid JSON ({error})") from None
    _verify(manifest, staged)
    return manifest, staged


def _verify(manifest: Manifest, staged: dict[str, StagedMember]) -> None:
    problems = [f"{name}: not in the archive" for name in sorted(set(manifest.files) - set(staged))]
    problems += [f"{name}: not in the manifest" for name in sorted(set(staged) - set(manifest.files))]
    for name, member in sorted(staged.items()):
        expected = manifest.files.get(name)
        if expected and (expected["sha256"] != member.sha256 or expected["size"] != member.size):
            problems.append(f"{name}: checksum does not match")
    if DATABASE_MEMBER[manifest.database_vendor] not in staged:
        problems.append("the default database is not in the archive")
    if problems:
        shown = "; ".join(problems[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5
                                           else "")
        raise CorruptArchiveError(f"the archive is damaged, nothing was restored: {shown}")


def _target_path(member: StagedMember) -> Path | None:
    from authoring.uploads_area import uploads_dir
    from channels.versions import version_database_path
    from learning.certificates import certificate_pdf_path
    from storage.paths import storage_path

    if member.kind == "stored":
        return storage_path(*member.parts)
    if member.kind == "version":
        return version_database_path(member.parts[0], int(member.parts[1]))
    if member.kind == "certificate":
        return certificate_pdf_path(*member.parts)
    if member.kind == "upload":
        return uploads_dir() / member.parts[0]
    return None  # the database and the home's files: restored on their own


# Private keys and what may hold passwords (DATABASE_URL in settings.toml) are for the server's
# user alone; certificates are public (tablets download ca.crt).
PUBLIC_HOME_SUFFIXES = (".crt", ".pem.crt")
PRIVATE_FOLDER_MODE = 0o700


def home_file_mode(relative: str) -> int:
    """0644 for a certificate, 0600 for everything else (keys, the secret key, settings)."""
    return 0o644 if relative.endswith(PUBLIC_HOME_SUFFIXES) else 0o600


def place_home_files(staged: dict[str, StagedMember], progress: Progress) -> list[str]:
    """Put the home's own files back with safe permissions; returns what was done, in words.

    settings.toml is restored only where the home has none: one already here was written for
    this machine (its CONTENT_DIR, DATABASE_URL), so the archive's copy goes beside it as
    settings.toml.from-backup for the admin to compare.
    """
    from storage.files import fsync_directory

    home = Path(settings.HOME)
    done: list[str] = []
    for member in sorted(staged.values(), key=lambda item: item.parts[0]):
        if member.kind != "home":
            continue
        relative = member.parts[0]
        target = home / relative
        if relative == "settings.toml" and target.exists() and \
                target.read_bytes() != member.path.read_bytes():
            target = home / "settings.toml.from-backup"
            done.append(f"kept this home's settings.toml; the backup's is {target}")
        else:
            done.append(f"restored {relative}")
        if target.parent != home:
            target.parent.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
            os.chmod(target.parent, PRIVATE_FOLDER_MODE)
        os.chmod(member.path, home_file_mode(relative))
        os.replace(member.path, target)
        fsync_directory(target.parent)
    for line in done:
        progress(f"restore: {line}")
    return done


def place_files(staged: dict[str, StagedMember], progress: Progress) -> int:
    """Rename every staged file into place and sync the folders; returns how many."""
    from storage.files import fsync_directory

    folders: set[Path] = set()
    placed = 0
    for member in staged.values():
        target = _target_path(member)
        if target is None:
            continue
        target.parent.mkdir(mode=0o700 if member.kind == "certificate" else 0o777,
                            parents=True, exist_ok=True)
        os.replace(member.path, target)
        folders.add(target.parent)
        placed += 1
    for folder in folders:
        fsync_directory(folder)
    progress(f"restore: placed {placed} files")
    return placed


def forget_served_files(manifest: Manifest) -> None:
    """Remove the served file of every channel whose current version the archive holds.

    On a home overwritten with `force`, an older served file would otherwise win: recovery
    trusts what readers see over the registry. Without it, recovery serves the restored
    current version from its kept copy. Safe here: no server runs on this home.
    """
    from routers.ids import is_valid_channel_id
    from routers.registry import channel_database_path

    for channel in manifest.channels:
        channel_id = str(channel.get("id", ""))
        if is_valid_channel_id(channel_id) and channel.get("current") in channel.get(
                "versions", []):
            channel_database_path(channel_id).unlink(missing_ok=True)


def restore_backup(archive: Path, *, force: bool = False,
                   progress: Progress = lambda line: None) -> RestoreResult:
    """Restore `archive` onto this home (see the module doc)."""
    from django.core.management import call_command

    from channels.recovery import recover

    archive = Path(archive)
    if not archive.is_file():
        raise ArchiveNotFoundError(f"{archive} does not exist or is not a file")
    ensure_database_reachable()
    users = processes_using_home()
    if users:
        raise HomeInUseError("a server or consumer is using this home; stop it first ("
                             + "; ".join(users) + ")")
    contents = home_contents()
    if contents and not force:
        raise HomeInUseError("this home is not empty (" + "; ".join(contents) + "); restore "
                             "onto a fresh KOLIBRI_LIKE_HOME, or add --force to overwrite")
    temp_dir = Path(settings.CONTENT_TEMP_DIR)
    temp_dir.mkdir(parents=True, exist_ok=True)
    needed = archive.stat().st_size + FREE_SPACE_MARGIN_BYTES
    if free_bytes(temp_dir) < needed:
        raise NotEnoughSpaceError(f"the restore needs about {format_bytes(needed)} in "
                                  f"{temp_dir}, which has {format_bytes(free_bytes(temp_dir))}")
    staging = temp_dir / f"restore-{uuid.uuid4().hex[:12]}"
    try:
        progress(f"restore: reading {archive} ({format_bytes(archive.stat().st_size)})")
        manifest, staged = extract_archive(archive, staging, progress)
        vendor = manifest.database_vendor
        if vendor == "postgresql" and database_has_tables():
            raise HomeInUseError("the PostgreSQL database named by DATABASE_URL has tables; "
                                 "create an empty database, point DATABASE_URL at it, and "
                                 "run the restore again")
        restore_marker().write_text(f"{archive}\n")
        place_files(staged, progress)
        place_home_files(staged, progress)
        forget_served_files(manifest)
        restore_default_database(staged[DATABASE_MEMBER[vendor]].path, vendor)
        progress("restore: the default database is back; migrating")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    call_command("migrate", interactive=False, verbosity=0)
    progress("restore: recovering channels")
    report = recover()
    restore_marker().unlink(missing_ok=True)
    return RestoreResult(manifest, report.repairs, report.left)
