"""A copy of an older channel database in the current schema, written with SQL, never in Python
row loops: one `INSERT ... SELECT` per table from the untrusted file attached read-only, so a
50,000-node channel takes about as long as copying and checking the file.

The drive's file (or the temp copy of it) is only read. Columns the older schema lacks get the
model's default, or the value Kolibri derives when it imports such a file
(kolibri/core/content/utils/channel_import.py):

- ContentNode.channel_id: the channel's id; license_name/license_description: from
  content_license by license_id; learning_activities: from the kind (video: watch, exercise:
  practice, ...); coach_content, available: false.
- content_localfile (absent before schema 1): one row per distinct File.checksum, with its
  extension and size; File.local_file_id: the checksum.
- ChannelMetadata.root_id: root_pk (and Studio's root_pk from root_id); min_schema_version: the
  one of the current schema (the copy has every column of it).
- Studio's legacy File columns (checksum, extension, file_size) from content_localfile.

Every known schema has the MPTT columns (lft, rght, tree_id, level), so they are copied; the
normal checks then run on the copy (`check_channel_database`).

    with normalised_copy(untrusted_path) as current_path:   # the same path if already current
        check_channel_database(current_path)
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from django.db import connections, models

from channels.errors import InvalidChannelDatabaseError
from channels.schema_versions import DetectedSchema, describe, detect_schema
from content.schema import MIN_SCHEMA_VERSION, content_models
from storage.paths import temp_root

# Kolibri's kind -> learning activity for files older than the labels (le-utils label ids).
KIND_ACTIVITY = {"exercise": "VwRCom7G", "video": "UD5UGM0z", "audio": "mkA1R3NU",
                 "document": "wA01urpi", "html5": "#j8L0eq3", "h5p": "#j8L0eq3"}
SOURCE = "src"


def schema_of(path: Path) -> DetectedSchema:
    """Open the untrusted file (quick_check first) and tell its schema."""
    from channels.checks import open_untrusted

    connection = open_untrusted(Path(path))
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            raise InvalidChannelDatabaseError(path, f"quick_check failed: {rows[0][0]}")
        return detect_schema(connection)
    except sqlite3.DatabaseError as error:
        raise InvalidChannelDatabaseError(path, str(error)) from None
    finally:
        connection.close()


@contextlib.contextmanager
def normalised_copy(path: Path, schema: DetectedSchema | None = None) -> Iterator[Path]:
    """`path` itself if it is in the current schema, else a normalised copy in the temp area
    (removed on exit unless it was moved away, e.g. installed)."""
    path = Path(path)
    schema = schema or schema_of(path)
    if schema.problem:
        raise InvalidChannelDatabaseError(path, schema.problem)
    if schema.is_current:
        yield path
        return
    folder = temp_root()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"normalised-{uuid.uuid4().hex[:12]}.sqlite3"
    try:
        normalise_database(path, target, schema)
        yield target
    finally:
        target.unlink(missing_ok=True)
        Path(f"{target}-journal").unlink(missing_ok=True)


def normalise_database(source: Path, target: Path, schema: DetectedSchema) -> None:
    """Write `target` (a new file) in the current schema from `source` in an older one."""
    if schema.problem or not schema.name:
        raise InvalidChannelDatabaseError(source, schema.problem or "unknown schema")
    tables, indexes = schema_sql()
    target.unlink(missing_ok=True)
    connection = sqlite3.connect(_uri(target, "rwc"), uri=True, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        for statement in tables:
            connection.execute(statement)
        # The source is untrusted: no function in its schema runs. Our own tables' CHECK
        # constraints call JSON_VALID, which that forbids, so they are not evaluated here.
        connection.execute("PRAGMA trusted_schema=OFF")
        connection.execute("PRAGMA ignore_check_constraints=ON")
        connection.execute(f"ATTACH DATABASE ? AS {SOURCE}", (_uri(source, "ro"),))
        connection.execute("BEGIN")
        channel_id = _channel_id(connection, source)
        for model in content_models():
            if schema.has(model._meta.db_table) or model._meta.db_table == "content_localfile":
                connection.execute(_insert_sql(model, schema, channel_id))
            # else: a table the old schema did not have (licenses, assessments) stays empty
        for statement in indexes:
            connection.execute(statement)
        connection.execute("COMMIT")
        connection.execute(f"DETACH DATABASE {SOURCE}")
        connection.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as error:
        raise InvalidChannelDatabaseError(
            source, f"cannot normalise it from {describe(schema.name)}: {error}") from None
    finally:
        connection.close()
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())


def _uri(path: Path, mode: str) -> str:
    return f"file:{quote(Path(path).resolve().as_posix())}?mode={mode}"


def _channel_id(connection: sqlite3.Connection, source: Path) -> str:
    rows = connection.execute(f"SELECT id FROM {SOURCE}.content_channelmetadata").fetchall()
    if len(rows) != 1:
        raise InvalidChannelDatabaseError(source, f"{len(rows)} channel metadata rows, not 1")
    return str(rows[0][0] or "").replace("-", "")


def _insert_sql(model: type[models.Model], schema: DetectedSchema, channel_id: str) -> str:
    table = model._meta.db_table
    columns = [field.column for field in model._meta.local_concrete_fields]
    if table == "content_localfile" and not schema.has(table):
        # Before schema 1 the File rows held the stored file: one LocalFile per checksum.
        return (f"INSERT INTO {table} (id, extension, available, file_size) "
                f"SELECT checksum, MAX(extension), 0, MAX(file_size) FROM {SOURCE}.content_file "
                f"WHERE checksum IS NOT NULL GROUP BY checksum")
    fields = {field.column: field for field in model._meta.local_concrete_fields}
    values = [_value(table, column, fields[column], schema, channel_id) for column in columns]
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM {SOURCE}.{table} AS row")


def _value(table: str, column: str, field: models.Field, schema: DetectedSchema,
           channel_id: str) -> str:
    if schema.has(table, column) and not (table == "content_channelmetadata"
                                          and column == "min_schema_version"):
        return f"row.{column}"
    derived = _derived(table, column, schema, channel_id)
    return derived if derived is not None else _default(field)


def _derived(table: str, column: str, schema: DetectedSchema, channel_id: str) -> str | None:
    has = schema.has
    if table == "content_channelmetadata":
        if column == "root_id" and has(table, "root_pk"):
            return "row.root_pk"
        if column == "root_pk" and has(table, "root_id"):
            return "row.root_id"
        if column == "min_schema_version":
            return _literal(MIN_SCHEMA_VERSION)
        if column == "id":
            return _literal(channel_id)
    if table == "content_contentnode":
        if column == "channel_id":
            return _literal(channel_id)
        if column in ("license_name", "license_description") and has(table, "license_id") \
                and has("content_license", column):
            return (f"(SELECT license.{column} FROM {SOURCE}.content_license AS license "
                    f"WHERE license.id = row.license_id)")
        if column == "learning_activities" and has(table, "kind"):
            cases = " ".join(f"WHEN {_literal(kind)} THEN {_literal(activity)}"
                             for kind, activity in KIND_ACTIVITY.items())
            return f"(CASE row.kind {cases} ELSE NULL END)"
    if table == "content_file":
        if column == "local_file_id" and has(table, "checksum"):
            return "row.checksum"
        if column == "checksum" and has(table, "local_file_id"):
            return "row.local_file_id"
        if column in ("extension", "file_size") and has("content_localfile", column):
            file_id = "row.local_file_id" if has(table, "local_file_id") else "row.checksum"
            return (f"(SELECT stored.{column} FROM {SOURCE}.content_localfile AS stored "
                    f"WHERE stored.id = {file_id})")
    return None


def _default(field: models.Field) -> str:
    if field.has_default():
        value = field.get_default()
        if isinstance(field, models.JSONField):
            return _literal(json.dumps(value))
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, str):
            return _literal(value)
    if field.null:
        return "NULL"
    if isinstance(field, models.BooleanField):
        return "0"
    if isinstance(field, models.IntegerField | models.FloatField):
        return "0"
    return "''"


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@lru_cache(maxsize=1)
def schema_sql() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(CREATE TABLE statements, CREATE INDEX statements) of the current schema, as Django's
    schema editor writes them (the builder's tables exactly), taken once from an empty file."""
    from routers.registry import complete_database_settings, register_alias, unregister_alias

    folder = temp_root()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"schema-{uuid.uuid4().hex[:12]}.sqlite3"
    alias = f"build-schema-{uuid.uuid4().hex[:8]}"  # a write alias like the builder's
    register_alias(alias, complete_database_settings({
        "ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": {"timeout": 5}}))
    try:
        with connections[alias].schema_editor() as editor:
            for model in content_models():
                if not model._meta.auto_created:
                    editor.create_model(model)
        connections[alias].close()
    finally:
        unregister_alias(alias)
    try:
        with contextlib.closing(sqlite3.connect(str(path))) as connection:
            rows = connection.execute(
                "SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
    finally:
        path.unlink(missing_ok=True)
        Path(f"{path}-journal").unlink(missing_ok=True)
    tables = tuple(sql for kind, sql in rows if kind == "table")
    indexes = tuple(sql for kind, sql in rows if kind == "index")
    return tables, indexes
