"""Which content schema an untrusted channel database has, told from its tables and columns.

Kolibri does it the same way (its sqlalchemy bridge tries each schema it knows, newest first, and
takes the first whose every table and column the file has); it then prefers the file's own
`min_schema_version` when the file has one. The schemas, named as Kolibri names them:

- "current": ours, Kolibri's schema 5 plus the legacy columns Studio still writes
  (CHANNEL_FORMAT.md); served as it is.
- "5" .. "1": Kolibri's numbered schemas (5 without Studio's legacy columns; 4 without the
  learning-activity labels and duration; 3 without tagline and options; 2 with
  stemmed_metaphone and File.available; 1 without coach_content).
- "unversioned", "v0.4.0-beta3", "v0.2.0-beta1": databases from before min_schema_version
  existed: no content_localfile (File holds checksum, extension, file_size), no
  ContentNode.channel_id, licenses in content_license, the root named by root_pk.

Extra tables and columns (Studio's additive schema 6, or anyone's) are tolerated: they are
reported in `extras` and left out of a normalised copy. A file that fits none of the schemas is
described by what it lacks against the nearest one.

    schema = detect_schema(connection)      # after PRAGMA quick_check on the untrusted file
    schema.problem                          # "" or why the file is refused
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from content.schema import required_columns

CURRENT = "current"
NO_VERSION = "unversioned"
V040BETA3 = "v0.4.0-beta3"
V020BETA1 = "v0.2.0-beta1"
# The values of min_schema_version we know how to read (Kolibri 0.19's list). A newer number
# means a reader newer than us is needed; anything else is not a schema we know.
KNOWN_MIN_SCHEMA_VERSIONS = ("5", "4", "3", "2", "1", NO_VERSION, V040BETA3, V020BETA1)
NEWEST_KNOWN_NUMBER = 5

Tables = dict[str, frozenset[str]]

_KOLIBRI_5: dict[str, tuple[str, ...]] = {
    "content_assessmentmetadata": ("id", "contentnode_id", "assessment_item_ids",
                                   "number_of_assessments", "mastery_model", "randomize",
                                   "is_manipulable"),
    "content_channelmetadata": ("id", "name", "description", "tagline", "author", "version",
                                "thumbnail", "last_updated", "min_schema_version", "root_id"),
    "content_contentnode": ("id", "parent_id", "channel_id", "content_id", "title",
                            "description", "kind", "sort_order", "author", "license_owner",
                            "license_name", "license_description", "coach_content",
                            "available", "lang_id", "options", "grade_levels",
                            "resource_types", "learning_activities", "accessibility_labels",
                            "categories", "learner_needs", "duration", "lft", "rght",
                            "tree_id", "level"),
    "content_contentnode_has_prerequisite": ("id", "from_contentnode_id", "to_contentnode_id"),
    "content_contentnode_related": ("id", "from_contentnode_id", "to_contentnode_id"),
    "content_contentnode_tags": ("id", "contentnode_id", "contenttag_id"),
    "content_contenttag": ("id", "tag_name"),
    "content_file": ("id", "contentnode_id", "local_file_id", "preset", "supplementary",
                     "thumbnail", "priority", "lang_id"),
    "content_language": ("id", "lang_code", "lang_subcode", "lang_name", "lang_direction"),
    "content_localfile": ("id", "extension", "available", "file_size"),
}
LABEL_COLUMNS = ("grade_levels", "resource_types", "learning_activities",
                 "accessibility_labels", "categories", "learner_needs", "duration")


def _change(base: Tables, *, drop: dict[str, tuple[str, ...]] | None = None,
            add: dict[str, tuple[str, ...]] | None = None,
            drop_tables: tuple[str, ...] = ()) -> Tables:
    tables = {name: set(columns) for name, columns in base.items() if name not in drop_tables}
    for name, columns in (drop or {}).items():
        tables[name] -= set(columns)
    for name, columns in (add or {}).items():
        tables.setdefault(name, set()).update(columns)
    return {name: frozenset(columns) for name, columns in tables.items()}


def _kolibri_schemas() -> list[tuple[str, Tables]]:
    """Kolibri's schemas, newest first (the order it tries them in)."""
    v5 = {name: frozenset(columns) for name, columns in _KOLIBRI_5.items()}
    v4 = _change(v5, drop={"content_contentnode": LABEL_COLUMNS})
    v3 = _change(v4, drop={"content_channelmetadata": ("tagline",),
                           "content_contentnode": ("options",)})
    v2 = _change(v3, add={"content_contentnode": ("stemmed_metaphone",),
                          "content_file": ("available",)})
    v1 = _change(v2, drop={"content_contentnode": ("coach_content",)})
    unversioned = _change(
        v1, drop_tables=("content_localfile",),
        drop={"content_channelmetadata": ("last_updated", "min_schema_version", "root_id"),
              "content_contentnode": ("channel_id", "license_name", "license_description"),
              "content_file": ("local_file_id",)},
        add={"content_channelmetadata": ("root_pk",),
             "content_contentnode": ("license_id",),
             "content_file": ("checksum", "extension", "file_size"),
             "content_license": ("id", "license_name", "license_description")})
    v040beta3 = _change(unversioned, drop={"content_contentnode": ("lang_id",),
                                           "content_language": ("lang_name", "lang_direction")})
    v020beta1 = _change(v040beta3, drop_tables=("content_assessmentmetadata",),
                        drop={"content_license": ("license_description",)})
    return [("5", v5), ("4", v4), ("3", v3), ("2", v2), ("1", v1), (NO_VERSION, unversioned),
            (V040BETA3, v040beta3), (V020BETA1, v020beta1)]


def known_schemas() -> list[tuple[str, Tables]]:
    """Every schema we read, in the order they are tried: ours first, then Kolibri's."""
    return [(CURRENT, dict(required_columns())), *_kolibri_schemas()]


@dataclass(frozen=True)
class DetectedSchema:
    # The schema the tables and columns fit ("" if none), and the nearest one when none fits.
    name: str
    nearest: str
    # What the file has: table -> its columns.
    tables: Tables
    # What the file lacks against the nearest schema ("table x", "x.column").
    missing: tuple[str, ...] = ()
    # Tables and columns beyond our current schema (tolerated, not copied).
    extras: tuple[str, ...] = ()
    # The file's min_schema_version, None if the file has no such column.
    min_schema_version: str | None = None
    problem: str = field(default="")

    @property
    def is_current(self) -> bool:
        return self.name == CURRENT and not self.problem

    def has(self, table: str, column: str | None = None) -> bool:
        if column is None:
            return table in self.tables
        return column in self.tables.get(table, frozenset())


def read_tables(connection: sqlite3.Connection) -> Tables:
    tables: Tables = {}
    for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        columns = connection.execute("SELECT name FROM pragma_table_info(?)", (name,)).fetchall()
        tables[str(name)] = frozenset(str(row[0]) for row in columns)
    return tables


def _lacking(tables: Tables, schema: Tables) -> list[str]:
    missing: list[str] = []
    for table, columns in sorted(schema.items()):
        if table not in tables:
            missing.append(f"table {table}")
        else:
            missing.extend(f"{table}.{column}" for column in sorted(columns - tables[table]))
    return missing


def detect_schema(connection: sqlite3.Connection) -> DetectedSchema:
    """The schema of the open (already quick_checked) file and, if any, why it is refused."""
    tables = read_tables(connection)
    current = dict(required_columns())
    extras = tuple(sorted(
        [f"table {name}" for name in tables
         if name not in current and name.startswith("content_")]
        + [f"{name}.{column}" for name, columns in tables.items() if name in current
           for column in sorted(columns - current[name])]))
    nearest, nearest_missing = "", None
    for name, schema in known_schemas():
        missing = _lacking(tables, schema)
        if not missing:
            return _with_min_version(connection, DetectedSchema(
                name=name, nearest=name, tables=tables, extras=extras))
        if nearest_missing is None or len(missing) < len(nearest_missing):
            nearest, nearest_missing = name, missing
    missing = tuple(nearest_missing or ())
    shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    return DetectedSchema(
        name="", nearest=nearest, tables=tables, missing=missing, extras=extras,
        problem=f"missing {shown} (it fits no content schema we know; the nearest is "
                f"{describe(nearest)})")


def _with_min_version(connection: sqlite3.Connection, schema: DetectedSchema) -> DetectedSchema:
    if not schema.has("content_channelmetadata", "min_schema_version"):
        return schema
    values = {row[0] for row in connection.execute(
        "SELECT min_schema_version FROM content_channelmetadata").fetchall()}
    value = "" if len(values) != 1 else str(next(iter(values)) or "").strip()
    problem = ""
    if value not in KNOWN_MIN_SCHEMA_VERSIONS:
        if value.isdigit() and int(value) > NEWEST_KNOWN_NUMBER:
            problem = (f"its min_schema_version is {value!r}: it needs a reader of content "
                       f"schema {value}, and we read up to {NEWEST_KNOWN_NUMBER}")
        elif len(values) == 1:
            problem = (f"its min_schema_version {value!r} is not a content schema we know "
                       f"(we know {', '.join(KNOWN_MIN_SCHEMA_VERSIONS)})")
        # Several or no metadata rows: the metadata check reports that.
    return DetectedSchema(name=schema.name, nearest=schema.nearest, tables=schema.tables,
                          extras=schema.extras, min_schema_version=value, problem=problem)


def describe(name: str) -> str:
    if name == CURRENT:
        return "the current schema (Kolibri 5 with Studio's columns)"
    if name.isdigit():
        return f"Kolibri content schema {name}"
    return f"Kolibri's {name} content schema"
