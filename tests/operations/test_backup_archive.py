"""`create_backup` and `extract_archive` in-process, on a real SQLite file holding the test's rows
(the test database lives in memory; `VACUUM INTO` writes it out as the "default database")."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from django.db import connection

from operations import backup, database
from operations.archive import CorruptArchiveError
from operations.backup import BackupTargetExistsError, NotEnoughSpaceError, create_backup
from operations.restore import extract_archive

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="VACUUM INTO is SQLite's"),
]


@pytest.fixture
def default_database_file(tmp_path, monkeypatch, make_channel):
    built = make_channel("maths")
    path = tmp_path / "default.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(path)])
    monkeypatch.setattr(database, "sqlite_database_path", lambda: path)
    return built


def test_an_archive_round_trips_through_extract(default_database_file, tmp_path):
    lines: list[str] = []
    result = create_backup(tmp_path / "out" / "b.tar", progress=lines.append)
    assert result.path.is_file() and not list(result.path.parent.glob(".*partial"))
    assert any(line.startswith("backup: copied the default database") for line in lines)
    manifest, staged = extract_archive(result.path, tmp_path / "staging", lines.append)
    assert set(staged) == set(manifest.files)
    assert f"versions/{default_database_file.channel_id}/1.sqlite3" in staged
    assert staged["database/default.sqlite3"].size > 0
    assert manifest.channels[0]["id"] == default_database_file.channel_id
    assert manifest.migrations["channels"].startswith("0")


def test_a_file_gone_from_disk_is_listed_as_missing(default_database_file, tmp_path):
    from channels.versions import version_database_path

    version_database_path(default_database_file.channel_id, 1).unlink()
    (tmp_path / "content" / "databases" / f"{default_database_file.channel_id}.sqlite3").unlink()
    result = create_backup(tmp_path / "b.tar")
    assert result.manifest.missing == [f"versions/{default_database_file.channel_id}/1.sqlite3"]
    with tarfile.open(result.path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["missing"] == result.manifest.missing


def test_too_little_space_stops_before_writing(default_database_file, tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "free_bytes", lambda path: 1024)
    with pytest.raises(NotEnoughSpaceError) as caught:
        create_backup(tmp_path / "b.tar")
    assert caught.value.exit_code == 5
    assert list(tmp_path.glob("*b.tar*")) == [] and list(tmp_path.glob(".snapshot-*")) == []


def test_an_existing_archive_is_never_overwritten(default_database_file, tmp_path):
    (tmp_path / "b.tar").write_bytes(b"keep me")
    with pytest.raises(BackupTargetExistsError):
        create_backup(tmp_path / "b.tar")
    assert (tmp_path / "b.tar").read_bytes() == b"keep me"


def test_a_member_not_in_the_manifest_is_refused(default_database_file, tmp_path):
    result = create_backup(tmp_path / "b.tar")
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(result.path) as source, tarfile.open(tampered, "w") as target:
        for member in source.getmembers():
            if member.name == "manifest.json":
                extra = tarfile.TarInfo(f"uploads/{'a' * 32}.part")
                extra.size = 3
                target.addfile(extra, io.BytesIO(b"abc"))
            target.addfile(member, source.extractfile(member))
    with pytest.raises(CorruptArchiveError, match="not in the manifest"):
        extract_archive(tampered, tmp_path / "staging", lambda line: None)
