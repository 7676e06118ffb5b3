"""The checks a channel file passes before it is served: a malformed tree is refused."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from channels.checks import check_channel_database
from channels.errors import InvalidChannelDatabaseError

pytestmark = pytest.mark.django_db


@pytest.fixture
def copy_of_channel(make_channel, tmp_path):
    built = make_channel("checked", topics=2, leaves=2)
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(built.path, copy)
    return built.channel_id, copy


def damage(path, statement: str, *parameters) -> None:
    connection = sqlite3.connect(path)
    connection.execute(statement, parameters)
    connection.commit()
    connection.close()


def test_a_good_file_passes(copy_of_channel):
    channel_id, copy = copy_of_channel
    assert check_channel_database(copy, channel_id).node_count == 7


@pytest.mark.parametrize("statement,reason", [
    ("UPDATE content_contentnode SET parent_id = NULL WHERE kind = 'document'", "roots"),
    ("UPDATE content_contentnode SET parent_id = 'e' || substr(parent_id, 2) "
     "WHERE kind = 'document'", "parent that is missing"),
    ("UPDATE content_contentnode SET lft = lft + 1000 WHERE kind = 'document'",
     "outside their parent"),
    ("UPDATE content_contentnode SET channel_id = 'ffffffffffffffffffffffffffffffff' "
     "WHERE kind = 'document'", "another channel"),
])
def test_a_malformed_tree_is_refused(copy_of_channel, statement, reason):
    channel_id, copy = copy_of_channel
    damage(copy, statement)
    with pytest.raises(InvalidChannelDatabaseError, match=reason):
        check_channel_database(copy, channel_id)


def test_a_missing_column_is_named(copy_of_channel):
    channel_id, copy = copy_of_channel
    damage(copy, "ALTER TABLE content_file DROP COLUMN preset")
    with pytest.raises(InvalidChannelDatabaseError, match="content_file.preset"):
        check_channel_database(copy, channel_id)


def test_a_wal_file_is_refused(copy_of_channel):
    channel_id, copy = copy_of_channel
    connection = sqlite3.connect(copy)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()
    with pytest.raises(InvalidChannelDatabaseError, match="WAL"):
        check_channel_database(copy, channel_id)
