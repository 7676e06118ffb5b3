"""Build a channel database file from a tree of nodes and files, and put it in place atomically.

The builder is how every channel database here comes to be (demo content now; publishing a draft
and normalising imports later). It never writes into a served file:

1. Store every file in the content-addressed store (deduplicated by MD5).
2. Write a new SQLite file in the temp area: tables from the content models, rows in bulk, MPTT
   fields computed in one pass over the tree, rollback journal (never WAL).
3. Check the new file as an import would (`channels.checks`).
4. fsync it and rename it over `CONTENT_DIR/databases/<channel_id>.sqlite3`, after releasing
   connections to the old file; register the channel in the default database.

    spec = ChannelSpec(name="Maths", root=NodeSpec(title="Maths", kind="topic", children=[...]))
    result = build_channel(spec)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from django.db import connections, models, transaction
from django.utils import timezone

from content.constants import PRESETS, TOPIC
from content.models import (
    AssessmentMetaData,
    ChannelMetadata,
    ContentNode,
    File,
    Language,
    LocalFile,
)
from content.perseus import InvalidExerciseFileError, read_exercise_manifest
from content.schema import MIN_SCHEMA_VERSION, content_models
from kolibri_like.crashpoints import crash_point
from routers.ids import is_valid_channel_id
from routers.registry import (
    channel_database_path,
    complete_database_settings,
    register_alias,
    unregister_alias,
)
from storage.files import put_file
from storage.paths import temp_root

BULK_BATCH = 2000
ProgressCallback = Callable[[str, int, int], None]


class ChannelBuildError(Exception):
    exit_code = 4


@dataclass
class FileSpec:
    """A file of a node: its role (`preset`), and its bytes as a path or in memory."""

    preset: str
    extension: str
    source: Path | bytes
    lang: str | None = None
    checksum: str | None = None
    size: int | None = None


@dataclass
class NodeSpec:
    title: str
    kind: str = TOPIC
    id: str | None = None
    content_id: str | None = None
    description: str = ""
    author: str = ""
    license_name: str | None = None
    license_owner: str = ""
    lang: str | None = None
    duration: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    files: list[FileSpec] = field(default_factory=list)
    children: list[NodeSpec] = field(default_factory=list)


@dataclass
class ChannelSpec:
    name: str
    root: NodeSpec
    id: str | None = None
    description: str = ""
    author: str = ""
    tagline: str | None = None
    # None: the next number this server has not used for the channel (channels.versions).
    version: int | None = None
    version_label: str = ""
    thumbnail: str = ""
    languages: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildResult:
    channel_id: str
    version: int
    path: Path
    node_count: int
    file_count: int
    total_size: int


def stable_id(*parts: object) -> str:
    """A 32-hex id derived from its parts: the same parts give the same id in every version."""
    return hashlib.md5(":".join(str(part) for part in parts).encode()).hexdigest()


def walk(node: NodeSpec) -> Iterator[NodeSpec]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def store_files(spec: ChannelSpec, progress: ProgressCallback | None = None) -> None:
    """Put every file of the tree in the store and fill in its checksum and size."""
    files = [file_spec for node in walk(spec.root) for file_spec in node.files]
    for index, file_spec in enumerate(files, start=1):
        preset = PRESETS.get(file_spec.preset)
        if preset is None:
            raise ChannelBuildError(f"unknown preset {file_spec.preset!r}")
        if file_spec.extension not in preset.extensions:
            raise ChannelBuildError(
                f"preset {preset.name} takes {', '.join(preset.extensions)}, "
                f"not {file_spec.extension}")
        if file_spec.checksum is None:
            stored = put_file(file_spec.source, file_spec.extension)
            file_spec.checksum, file_spec.size = stored.checksum, stored.size
        if progress is not None:
            progress("files", index, len(files))


def build_channel(spec: ChannelSpec, *, owner: Any = None,
                  progress: ProgressCallback | None = None,
                  source_label: str = "published") -> BuildResult:
    """Store the files, write the database, and install it as the channel's current file.

    `source_label` is recorded on the version (what made it: "draft <id>" for a publish, so
    start-up recovery can tell whether a publish cut off by a crash made its version)."""
    if spec.id is None:
        spec.id = uuid.uuid4().hex
    if not is_valid_channel_id(spec.id):
        raise ChannelBuildError(f"not a channel id: {spec.id!r}")
    store_files(spec, progress)
    temp_dir = temp_root()
    temp_dir.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(dir=temp_dir, prefix=f"build-{spec.id}-",
                                             suffix=".sqlite3")
    os.close(descriptor)
    temp_path = Path(temp_name)
    try:
        counts = write_channel_database(spec, temp_path, progress)
        from channels.services import install_channel_database

        install_channel_database(temp_path, spec.id, version_label=spec.version_label,
                                 owner=owner, source_label=source_label)
    finally:
        temp_path.unlink(missing_ok=True)
        Path(f"{temp_path}-journal").unlink(missing_ok=True)
    assert spec.version is not None
    return BuildResult(spec.id, spec.version, channel_database_path(spec.id), *counts)


def write_channel_database(spec: ChannelSpec, path: Path,
                           progress: ProgressCallback | None = None) -> tuple[int, int, int]:
    """Write the channel's tables and rows into a new SQLite file at `path`.

    Returns (node count, distinct file count, total size of distinct files).
    """
    assert spec.id is not None
    if spec.version is None:
        from channels.versions import next_version_number

        spec.version = next_version_number(spec.id)
    path.unlink(missing_ok=True)
    alias = f"build-{spec.id}-{uuid.uuid4().hex[:8]}"
    register_alias(alias, complete_database_settings({
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {"timeout": 5},
    }))
    try:
        connection = connections[alias]
        with connection.cursor() as cursor:
            # A fresh file that nobody reads yet: no journal while writing, then the rollback
            # journal for its life as a served file (never WAL; DESIGN.md says why).
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
        with connection.schema_editor() as editor:
            for model in content_models():
                if not model._meta.auto_created:
                    editor.create_model(model)
        counts = _insert_rows(spec, alias, progress)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=DELETE")
        connection.close()
        crash_point("publish.temp_built")
    finally:
        unregister_alias(alias)
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
    crash_point("publish.temp_synced")
    return counts


def _insert_rows(spec: ChannelSpec, alias: str,
                 progress: ProgressCallback | None) -> tuple[int, int, int]:
    """Insert every row; MPTT's lft/rght/level come from one depth-first pass (no recursion)."""
    assert spec.id is not None
    channel_id = spec.id
    languages = dict(spec.languages)
    rows: dict[str, ContentNode] = {}
    file_rows: list[File] = []
    local_files: dict[str, LocalFile] = {}
    counter = 1
    # (node, parent id, level, sort order, leaving): each node is visited when entered and left.
    stack: list[tuple[NodeSpec, str | None, int, int, bool]] = [(spec.root, None, 0, 1, False)]
    while stack:
        node, parent_id, level, sort_order, leaving = stack.pop()
        if leaving:
            row = rows[node.id or ""]
            row.rght = counter
            counter += 1
            if node.kind == TOPIC:
                row.available = any(rows[child.id or ""].available for child in node.children)
            continue
        node.id = node.id or stable_id(channel_id, "node", len(rows))
        if not is_valid_channel_id(node.id) or node.id in rows:
            raise ChannelBuildError(f"node id is malformed or used twice: {node.id!r}")
        if node.lang:
            languages.setdefault(node.lang, node.lang)
        rows[node.id] = ContentNode(
            id=node.id, parent_id=parent_id, channel_id=channel_id,
            content_id=node.content_id or stable_id("content", node.id),
            title=node.title, description=node.description, kind=node.kind,
            sort_order=float(sort_order), author=node.author, license_name=node.license_name,
            license_owner=node.license_owner, lang_id=node.lang, options=node.options,
            duration=node.duration, coach_content=False, available=node.kind != TOPIC,
            tree_id=1, level=level, lft=counter, rght=0,
        )
        counter += 1
        for position, file_spec in enumerate(node.files):
            file_rows.append(_file_row(node.id, position, file_spec, local_files, languages))
        stack.append((node, parent_id, level, sort_order, True))
        for child_position in range(len(node.children) - 1, -1, -1):
            stack.append((node.children[child_position], node.id, level + 1,
                          child_position + 1, False))

    assessments = _assessment_rows(spec.root)
    root_id = spec.root.id
    assert root_id is not None
    Language.objects.using(alias).bulk_create(
        [Language(id=code, lang_code=code.split("-")[0][:3],
                  lang_subcode=code.split("-", 1)[1] if "-" in code else None,
                  lang_name=name) for code, name in sorted(languages.items())],
        batch_size=BULK_BATCH)
    node_rows = list(rows.values())
    with transaction.atomic(using=alias):
        for start in range(0, len(node_rows), BULK_BATCH):
            _write_rows(alias, ContentNode, node_rows[start:start + BULK_BATCH])
            if progress is not None:
                progress("nodes", min(start + BULK_BATCH, len(node_rows)), len(node_rows))
        _write_rows(alias, LocalFile, list(local_files.values()))
        _write_rows(alias, File, file_rows)
    AssessmentMetaData.objects.using(alias).bulk_create(assessments, batch_size=BULK_BATCH)
    ChannelMetadata.objects.using(alias).create(
        id=channel_id, name=spec.name, description=spec.description[:400],
        tagline=spec.tagline, author=spec.author, version=spec.version,
        thumbnail=spec.thumbnail, last_updated=timezone.now(),
        min_schema_version=MIN_SCHEMA_VERSION, root_id=root_id, root_pk=root_id)
    total_size = sum(local_file.file_size or 0 for local_file in local_files.values())
    return len(node_rows), len(local_files), total_size


# Fields whose Python value is what SQLite stores: written as they are. Exact types only: a
# subclass (an id field, a foreign key, JSON) may convert, and goes through Django's own
# preparation for that column.
_PLAIN_FIELD_TYPES = (models.CharField, models.TextField, models.BooleanField,
                      models.FloatField, models.IntegerField, models.PositiveIntegerField)


def _write_rows(alias: str, model: Any, instances: list[Any]) -> None:
    """INSERT the instances with one executemany of plain tuples: `bulk_create` prepares every
    field of every row through the ORM, which cost most of a publish's time."""
    if not instances:
        return
    connection = connections[alias]
    fields = model._meta.concrete_fields
    converters: list[Callable[[Any], Any] | None] = [
        None if type(field) in _PLAIN_FIELD_TYPES else
        (lambda value, field=field: field.get_db_prep_save(value, connection))
        for field in fields]
    attnames = [field.attname for field in fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    statement = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
                 f"VALUES ({marks})")
    pairs = list(zip(attnames, converters, strict=True))
    with connection.cursor() as cursor:
        for start in range(0, len(instances), BULK_BATCH):
            cursor.executemany(statement, [
                tuple(getattr(instance, name) if convert is None
                      else convert(getattr(instance, name)) for name, convert in pairs)
                for instance in instances[start:start + BULK_BATCH]])


def _assessment_rows(root: NodeSpec) -> list[AssessmentMetaData]:
    """One row per exercise, from its `.perseus` file's exercise.json: Kolibri's player reads the
    item ids and mastery model from this table, not from the file."""
    rows = []
    for node in walk(root):
        exercise_file = next((item for item in node.files if item.preset == "exercise"), None)
        if node.kind != "exercise" or exercise_file is None:
            continue
        data = exercise_file.source if isinstance(exercise_file.source, bytes) \
            else Path(exercise_file.source).read_bytes()
        try:
            manifest = read_exercise_manifest(data)
        except InvalidExerciseFileError as error:
            raise ChannelBuildError(f"exercise {node.title!r}: {error}") from None
        assert node.id is not None
        rows.append(AssessmentMetaData(
            id=stable_id(node.id, "assessment"), contentnode_id=node.id,
            assessment_item_ids=manifest.item_ids, number_of_assessments=len(manifest.item_ids),
            mastery_model=manifest.mastery_model, randomize=manifest.randomize,
            is_manipulable=False))
    return rows


def _file_row(node_id: str, position: int, file_spec: FileSpec,
              local_files: dict[str, LocalFile], languages: dict[str, str]) -> File:
    assert file_spec.checksum is not None
    preset = PRESETS[file_spec.preset]
    if file_spec.lang:
        languages.setdefault(file_spec.lang, file_spec.lang)
    local_files.setdefault(file_spec.checksum, LocalFile(
        id=file_spec.checksum, extension=file_spec.extension, available=True,
        file_size=file_spec.size))
    return File(
        id=stable_id(node_id, file_spec.preset, file_spec.lang or "", position),
        local_file_id=file_spec.checksum, contentnode_id=node_id, preset=file_spec.preset,
        lang_id=file_spec.lang, supplementary=preset.supplementary, thumbnail=preset.thumbnail,
        priority=position, checksum=file_spec.checksum, extension=file_spec.extension,
        file_size=file_spec.size, available=True)
