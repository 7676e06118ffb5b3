"""Rows 30, 32 and 33 of the bad-input table: what a USB drive may carry. A drive is
untrusted: a damaged or hostile channel database is refused before any of its SQL is used,
a file whose bytes do not match its name is never stored, and the rest of the drive still
imports. (The HTTP rows are in test_bad_inputs.py.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from channels.models import Channel, ChannelVersion
from channels.transfer.disk import export_channel_to_disk
from storage.models import StoredFile
from tests.channels.transfer.conftest import drive, exported, second_server  # noqa: F401
from tests.channels.transfer.helpers import run

pytestmark = pytest.mark.django_db


def databases_on(server: Path) -> list[str]:
    return sorted(path.name for path in (server / "databases").glob("*.sqlite3*"))


def flip_a_bit_in_a_page_header(path: Path) -> None:
    """One bit of the second page's type byte: a b-tree page no SQLite reader accepts."""
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[page_size] ^= 0x80
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 100])


@pytest.fixture
def two_on_the_drive(exported, make_channel):  # noqa: F811
    """The maths channel (exported) and a second channel, science, on the same drive."""
    science = make_channel("science", topics=1, leaves=2)
    export_channel_to_disk(science.channel_id, exported.drive)
    return exported, science.channel_id


@pytest.mark.parametrize("damage", [truncate, flip_a_bit_in_a_page_header])
def test_a_corrupt_database_is_named_and_refused_and_the_others_still_import(
        two_on_the_drive, second_server, damage):  # noqa: F811
    maths, science_id = two_on_the_drive
    damaged = maths.data / "databases" / f"{maths.channel_id}.sqlite3"
    damage(damaged)
    second = second_server()
    code, _out, err = run("importchannel", "disk", maths.channel_id, str(maths.drive))
    assert code == 4
    assert "corrupt" in err and str(damaged) in err, err
    assert not Channel.objects.filter(id=maths.channel_id).exists()
    assert databases_on(second) == []
    code, _out, err = run("importchannel", "disk", science_id, str(maths.drive))
    assert code == 0, err
    assert databases_on(second) == [f"{science_id}.sqlite3"]


def edit(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


# A view or trigger that would run for ever (or call a function) if anything used it: a
# refusal must come from the checks, before any of the file's own SQL runs.
FOREVER = ("WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter) "
           "SELECT count(*) FROM counter")
HOSTILE = {
    "another channel's id inside": (
        "UPDATE content_channelmetadata SET id = 'ffffffffffffffffffffffffffffffff'",
        "UPDATE content_contentnode SET channel_id = 'ffffffffffffffffffffffffffffffff'"),
    "an unknown schema version": (
        "UPDATE content_channelmetadata SET min_schema_version = '99'",),
    "a view that runs for ever": (f"CREATE VIEW forever AS {FOREVER}",),
    "a view over a function": ("CREATE VIEW loader AS SELECT load_extension('/tmp/evil.so')",),
    "a trigger calling a function": (
        "CREATE TRIGGER loader AFTER INSERT ON content_contentnode BEGIN "
        "SELECT load_extension('/tmp/evil.so'); END",),
    "a table swapped for a view": (
        "ALTER TABLE content_contentnode RENAME TO real_nodes",
        f"CREATE VIEW content_contentnode AS SELECT *, ({FOREVER}) AS extra FROM real_nodes"),
}


@pytest.mark.parametrize("statements", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_database_is_refused_before_its_sql_runs(exported, second_server,  # noqa: F811
                                                           statements):
    on_drive = exported.data / "databases" / f"{exported.channel_id}.sqlite3"
    edit(on_drive, *statements)
    second = second_server()
    code, _out, err = run("importchannel", "disk", exported.channel_id, str(exported.drive))
    assert code == 4, err
    assert not Channel.objects.exists() and not ChannelVersion.objects.exists()
    assert databases_on(second) == []


def test_a_file_whose_bytes_do_not_match_its_name_is_skipped_and_reported(
        exported, second_server):  # noqa: F811
    files = sorted((exported.data / "storage").rglob("*.pdf"))
    liar = files[0]
    liar.write_bytes(b"%PDF-1.4 not the bytes this name promises\n")
    second = second_server()
    assert run("importchannel", "disk", exported.channel_id, str(exported.drive))[0] == 0
    code, out, err = run("importcontent", "disk", exported.channel_id, str(exported.drive))
    assert code == 4 and liar.name in err, (out, err)
    checksum = liar.stem
    assert not StoredFile.objects.filter(checksum=checksum).exists()
    assert not list((second / "storage").rglob(f"{checksum}.*"))
    assert StoredFile.objects.count() == len(files) - 1  # the others are in
