"""Which content schema a channel file has, told from its tables and columns as Kolibri tells it.

Old-schema files are made from a current channel database rewritten with SQL into the shape
each Kolibri/Studio schema had (`old_shape`), from Kolibri's own history of the content schema.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from channels.checks import OlderSchemaError, check_channel_database
from channels.errors import InvalidChannelDatabaseError
from channels.schema_versions import CURRENT, detect_schema

pytestmark = pytest.mark.django_db

STUDIO_LEGACY = {"content_file": ("checksum", "extension", "file_size", "available"),
                 "content_contentnode": ("license_id", "stemmed_metaphone"),
                 "content_channelmetadata": ("root_pk",)}
LABELS = ("grade_levels", "resource_types", "learning_activities", "accessibility_labels",
          "categories", "learner_needs", "duration")
UNVERSIONED = {"content_channelmetadata": ("last_updated", "min_schema_version", "root_id",
                                           "tagline"),
               "content_contentnode": ("channel_id", "license_name", "license_description",
                                       "coach_content", "options", *LABELS),
               "content_file": ("local_file_id",)}
# name -> (tables dropped, columns dropped): what a file of that schema lacks against ours.
SHAPES: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "5": (("content_license",), STUDIO_LEGACY),
    "4": (("content_license",), {**STUDIO_LEGACY, "content_contentnode": (
        "license_id", "stemmed_metaphone", *LABELS)}),
    "3": (("content_license",), {**STUDIO_LEGACY, "content_contentnode": (
        "license_id", "stemmed_metaphone", "options", *LABELS),
        "content_channelmetadata": ("root_pk", "tagline")}),
    # Schema 1 and 2 still had stemmed_metaphone and File.available; 1 had no coach_content.
    "1": (("content_license",), {"content_file": ("checksum", "extension", "file_size"),
                                 "content_contentnode": ("license_id", "options",
                                                         "coach_content", *LABELS),
                                 "content_channelmetadata": ("root_pk", "tagline")}),
    "unversioned": (("content_localfile",), UNVERSIONED),
    "v0.4.0-beta3": (("content_localfile",), {
        **UNVERSIONED, "content_contentnode": (*UNVERSIONED["content_contentnode"], "lang_id"),
        "content_language": ("lang_name", "lang_direction")}),
    "v0.2.0-beta1": (("content_localfile", "content_assessmentmetadata"), {
        **UNVERSIONED, "content_contentnode": (*UNVERSIONED["content_contentnode"], "lang_id"),
        "content_language": ("lang_name", "lang_direction"),
        "content_license": ("license_description",)}),
}


def rewrite(path: Path, drop_tables: tuple[str, ...] = (),
            drop_columns: dict[str, tuple[str, ...]] | None = None) -> None:
    """Rewrite the file with SQL: tables dropped, tables rebuilt without some columns."""
    connection = sqlite3.connect(path)
    for table in drop_tables:
        connection.execute(f"DROP TABLE {table}")
    for table, dropped in (drop_columns or {}).items():
        keep = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")
                if row[1] not in dropped]
        connection.execute(f"CREATE TABLE old_{table} AS SELECT {', '.join(keep)} FROM {table}")
        connection.execute(f"DROP TABLE {table}")
        connection.execute(f"ALTER TABLE old_{table} RENAME TO {table}")
    connection.commit()
    connection.execute("VACUUM")
    connection.close()


def old_shape(path: Path, name: str) -> None:
    """Make the current file at `path` look like one Studio published in schema `name`."""
    connection = sqlite3.connect(path)
    if name in ("unversioned", "v0.4.0-beta3", "v0.2.0-beta1"):
        # Licenses lived in their own table, named by the node's license_id.
        connection.execute("INSERT INTO content_license (id, license_name, license_description) "
                           "VALUES (7, 'CC BY', 'Attribution')")
        connection.execute("UPDATE content_contentnode SET license_id = 7 "
                           "WHERE kind = 'document'")
        connection.commit()
    connection.close()
    drop_tables, drop_columns = SHAPES[name]
    rewrite(path, drop_tables, drop_columns)


def schema_of_file(path: Path):
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return detect_schema(connection)
    finally:
        connection.close()


@pytest.fixture
def channel_file(make_channel, tmp_path):
    built = make_channel("shapes", topics=2, leaves=2)
    copy = tmp_path / "channel.sqlite3"
    shutil.copyfile(built.path, copy)
    return built.channel_id, copy


def test_a_file_we_build_is_current_with_nothing_extra(channel_file):
    _channel_id, path = channel_file
    schema = schema_of_file(path)
    assert (schema.name, schema.is_current, schema.problem, schema.extras) == \
        (CURRENT, True, "", ())
    assert schema.min_schema_version == "1"


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_older_schema_is_named_as_kolibri_names_it(channel_file, name):
    channel_id, path = channel_file
    old_shape(path, name)
    schema = schema_of_file(path)
    assert schema.name == name and not schema.is_current and schema.problem == ""
    with pytest.raises(OlderSchemaError, match="not the current one") as refused:
        check_channel_database(path, channel_id)
    assert refused.value.schema.name == name


def test_extra_tables_and_columns_are_tolerated_and_reported(channel_file):
    channel_id, path = channel_file
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE content_contentnode_studio6 (id INTEGER, note TEXT)")
    connection.execute("ALTER TABLE content_contentnode ADD COLUMN admin_note TEXT")
    connection.commit()
    connection.close()
    schema = schema_of_file(path)
    assert schema.is_current
    assert schema.extras == ("content_contentnode.admin_note",
                             "table content_contentnode_studio6")
    assert check_channel_database(path, channel_id).node_count == 7


def test_a_missing_table_is_named_against_the_nearest_schema(channel_file):
    channel_id, path = channel_file
    rewrite(path, ("content_contenttag",))
    schema = schema_of_file(path)
    assert schema.name == "" and schema.nearest == CURRENT
    assert schema.missing == ("table content_contenttag",)
    with pytest.raises(InvalidChannelDatabaseError, match="missing table content_contenttag"):
        check_channel_database(path, channel_id)


def test_an_old_file_missing_a_column_is_named_against_its_own_schema(channel_file):
    channel_id, path = channel_file
    old_shape(path, "unversioned")
    rewrite(path, drop_columns={"content_file": ("checksum",)})
    schema = schema_of_file(path)
    assert schema.nearest == "unversioned" and schema.missing == ("content_file.checksum",)
    with pytest.raises(InvalidChannelDatabaseError,
                       match=r"missing content_file\.checksum \(.*nearest is Kolibri's unversioned"):
        check_channel_database(path, channel_id)


@pytest.mark.parametrize("value,reason", [
    ("999", "min_schema_version is '999': it needs a reader of content schema 999"),
    ("banana", "min_schema_version 'banana' is not a content schema we know"),
    ("", "min_schema_version '' is not a content schema we know"),
])
def test_an_unknown_min_schema_version_is_refused(channel_file, value, reason):
    channel_id, path = channel_file
    connection = sqlite3.connect(path)
    connection.execute("UPDATE content_channelmetadata SET min_schema_version = ?", (value,))
    connection.commit()
    connection.close()
    assert schema_of_file(path).problem.startswith(f"its {reason}")
    with pytest.raises(InvalidChannelDatabaseError, match=reason):
        check_channel_database(path, channel_id)


@pytest.mark.parametrize("value", ["1", "5", "unversioned"])
def test_known_min_schema_versions_pass(channel_file, value):
    channel_id, path = channel_file
    connection = sqlite3.connect(path)
    connection.execute("UPDATE content_channelmetadata SET min_schema_version = ?", (value,))
    connection.commit()
    connection.close()
    assert check_channel_database(path, channel_id).min_schema_version == value


def test_an_older_file_is_checked_as_its_normalised_copy_when_asked(channel_file):
    channel_id, path = channel_file
    old_shape(path, "v0.2.0-beta1")
    info = check_channel_database(path, channel_id, accept_older=True)
    assert (info.channel_id, info.node_count, info.min_schema_version) == (channel_id, 7, "1")
    assert schema_of_file(path).name == "v0.2.0-beta1"  # the file itself is unchanged


KOLIBRI_MODULES = {"5": "content_schema_5", "4": "content_schema_4", "3": "content_schema_3",
                   "1": "content_schema_1", "unversioned": "content_schema_unversioned",
                   "v0.4.0-beta3": "content_schema_v040beta3",
                   "v0.2.0-beta1": "content_schema_v020beta1"}
MAKE_EMPTY_FILES = """
import importlib, sys
for module, path in zip(sys.argv[1::2], sys.argv[2::2]):
    schema = importlib.import_module("kolibri.core.content.contentschema.versions." + module)
    from sqlalchemy import create_engine  # Kolibri's own copy, found once kolibri is imported
    schema.Base.metadata.create_all(create_engine("sqlite:///" + path))
"""


def test_the_tables_kolibri_itself_creates_for_each_schema_are_named_as_kolibri_names_them(
        tmp_path):
    """Kolibri 0.19.5's own SQLAlchemy definitions of its content schemas (the environment the
    interop tests use) make empty files; each is told apart as Kolibri tells it (schema 2 fits
    3's tables and columns, so Kolibri also takes it for 3)."""
    import os
    import subprocess

    from scripts.kolibri_env import ensure_kolibri_env

    kolibri = ensure_kolibri_env()
    arguments = []
    for name, module in KOLIBRI_MODULES.items():
        arguments += [module, str(tmp_path / f"{name}.sqlite3")]
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run([str(kolibri.python), "-c", MAKE_EMPTY_FILES, *arguments], check=True,
                   env=environment, timeout=120)
    found = {name: schema_of_file(tmp_path / f"{name}.sqlite3").name for name in KOLIBRI_MODULES}
    assert found == {name: name for name in KOLIBRI_MODULES}
