"""Backup and restore end to end: real server processes, real homes, real archives (SQLite, and
PostgreSQL in the services pass, where each ServerProcess gets a database of its own)."""

from __future__ import annotations

import json
import sqlite3
import tarfile
import threading
from pathlib import Path

import pytest
import requests

from tests.servers import ServerProcess

pytestmark = pytest.mark.server
LEARNER_PASSWORD = "Sunflower-meadow-42"


def on_postgres(server: ServerProcess) -> bool:
    return server.env.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def run_sql(server: ServerProcess, statements: list[str]) -> list[tuple]:
    """Run statements on the server's default database outside Django; the last one's rows."""
    rows: list[tuple] = []
    if on_postgres(server):
        import psycopg

        with psycopg.connect(server.env["DATABASE_URL"], autocommit=True) as connection:
            for statement in statements:
                cursor = connection.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
        return rows
    connection = sqlite3.connect(server.home / "db.sqlite3", timeout=30, isolation_level=None)
    try:
        for statement in statements:
            rows = connection.execute(statement).fetchall()
    finally:
        connection.close()
    return rows


def members(archive: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(archive) as tar:
        return {member.name: member for member in tar.getmembers()}


def login(url: str, username: str, password: str) -> requests.Response:
    session = requests.Session()
    session.get(f"{url}/login/", timeout=10)
    return session.post(f"{url}/login/", timeout=10, allow_redirects=False, data={
        "username": username, "password": password,
        "csrfmiddlewaretoken": session.cookies["csrftoken"]})


@pytest.fixture
def school_server(tmp_path):
    """A running server with a published demo channel and a learner."""
    server = ServerProcess(tmp_path / "school")
    with server:
        server.run_command("generate_demo_channel", "--nodes", "8", "--seed", "3")
        users = tmp_path / "users.csv"
        users.write_text(f"username,full_name,password,role\namina,Amina K,"
                         f"{LEARNER_PASSWORD},learner\n")
        server.run_command("importusers", str(users))
        yield server


def channel_ids(url: str) -> list[str]:
    return [channel["id"] for channel in
            requests.get(f"{url}/api/channels/", timeout=10).json()["results"]]


def test_a_restore_onto_a_fresh_home_brings_back_a_working_server(school_server, tmp_path):
    archive = tmp_path / "school.tar"
    result = school_server.run_command("backup", str(archive))
    assert "Backed up" in result.stdout
    [channel_id] = channel_ids(school_server.url)
    assert f"versions/{channel_id}/1.sqlite3" in members(archive)

    fresh = ServerProcess(tmp_path / "fresh")
    try:
        restored = fresh.run_command("restore", str(archive))
        assert "Restored the backup" in restored.stdout
        fresh.start()  # not `with`: leaving it would drop the PostgreSQL database
        try:
            assert channel_ids(fresh.url) == [channel_id]
            files = requests.get(f"{fresh.url}/api/content/{channel_id}/file/",
                                 timeout=10).json()["results"]
            assert files
            for item in files[:5]:
                response = requests.get(fresh.url + item["url"], timeout=10)
                assert response.status_code == 200 and len(response.content) == item["file_size"]
            signed_in = login(fresh.url, "amina", LEARNER_PASSWORD)
            assert signed_in.status_code == 302 and "sessionid" in signed_in.cookies
            assert login(fresh.url, "amina", "wrong").status_code == 200

            # A running server's home is never overwritten, even with --force.
            busy = fresh.run_command("restore", str(archive), "--force", check=False)
            assert busy.returncode == 7 and "stop it first" in busy.stderr
        finally:
            fresh.stop()
        refused = fresh.run_command("restore", str(archive), check=False)
        assert refused.returncode == 7 and "--force" in refused.stderr
        forced = fresh.run_command("restore", str(archive), "--force", check=False)
        assert forced.returncode == (7 if on_postgres(fresh) else 0), forced.stderr
        if not on_postgres(fresh):  # the archive's current version is served again
            assert "served file was missing; restored version 1" in forced.stdout
            listed = fresh.run_command("listchannels").stdout
            assert channel_id in listed and "available" in listed
    finally:
        fresh.stop()
        fresh.drop_database()


def test_a_backup_taken_during_writes_holds_one_consistent_state(school_server, tmp_path):
    """A writer commits (insert a row, bump a counter) in a loop while the backup runs: the
    archived database passes integrity_check and its counter equals its row count."""
    run_sql(school_server, ["CREATE TABLE ops_rows (id INTEGER PRIMARY KEY, body TEXT)",
                            "CREATE TABLE ops_counter (total INTEGER)",
                            "INSERT INTO ops_counter VALUES (0)"])
    stop, written = threading.Event(), []

    def write() -> None:
        index = 0
        while not stop.is_set():
            index += 1
            run_sql(school_server, [
                "BEGIN", f"INSERT INTO ops_rows VALUES ({index}, '{'x' * 200}')",
                "UPDATE ops_counter SET total = total + 1", "COMMIT"])
            written.append(index)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20:
            stop.wait(0.05)
        archive = tmp_path / "busy.tar"
        at_start = len(written)
        school_server.run_command("backup", str(archive))
        before_stop = len(written)
        assert before_stop > at_start  # the writer went on during the backup
    finally:
        stop.set()
        writer.join(timeout=30)
    with tarfile.open(archive) as tar:
        if on_postgres(school_server):
            assert "database/default.pgdump" in tar.getnames()
            tar.extract("database/default.pgdump", tmp_path, filter="data")
            copy = ServerProcess(tmp_path / "copy")  # a fresh, empty database to restore into
            try:
                import subprocess

                subprocess.run(["pg_restore", "--no-owner", "--dbname",
                                copy.env["DATABASE_URL"],
                                str(tmp_path / "database/default.pgdump")], check=True)
                [(rows, total)] = run_sql(copy, ["SELECT (SELECT count(*) FROM ops_rows), "
                                                 "(SELECT total FROM ops_counter)"])
            finally:
                copy.drop_database()
        else:
            tar.extract("database/default.sqlite3", tmp_path, filter="data")
            connection = sqlite3.connect(tmp_path / "database/default.sqlite3")
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            [(rows, total)] = connection.execute(
                "SELECT (SELECT count(*) FROM ops_rows), (SELECT total FROM ops_counter)"
            ).fetchall()
            connection.close()
    assert rows == total
    assert 20 <= rows <= before_stop + 1  # taken while the writer ran, not before or after


def test_imported_channels_need_all(school_server, tmp_path):
    [channel_id] = channel_ids(school_server.url)
    run_sql(school_server, ["UPDATE channels_channelversion SET source = 'disk /media/usb'"])
    authored_only = tmp_path / "authored.tar"
    everything = tmp_path / "all.tar"
    school_server.run_command("backup", str(authored_only))
    school_server.run_command("backup", "--all", str(everything))
    assert not any(name.startswith(("versions/", "storage/")) for name in members(authored_only))
    assert f"versions/{channel_id}/1.sqlite3" in members(everything)
    assert any(name.startswith("storage/") for name in members(everything))

    fresh = ServerProcess(tmp_path / "fresh")
    try:
        restored = fresh.run_command("restore", str(authored_only))
        assert f"channel {channel_id}" in restored.stdout and "import the channel again" \
            in restored.stdout
        assert not (fresh.home / "restore-in-progress").exists()
        # A restore cut short (its marker left behind) is finished by running it again.
        (fresh.home / "restore-in-progress").write_text(str(everything))
        again = fresh.run_command("restore", str(everything), check=False)
        assert again.returncode == (7 if on_postgres(fresh) else 0), again.stderr
        if not on_postgres(fresh):
            assert f"versions/{channel_id}/1.sqlite3" in members(everything)
            assert (fresh.home / "content" / "databases" / f"{channel_id}.sqlite3").is_file()
            assert not (fresh.home / "restore-in-progress").exists()
    finally:
        fresh.drop_database()


def corrupt_copy(archive: Path, target: Path) -> None:
    """Flip one byte inside the first stored file's data."""
    stored = next(member for member in members(archive).values()
                  if member.name.startswith("storage/"))
    data = bytearray(archive.read_bytes())
    data[stored.offset_data] ^= 0xFF
    target.write_bytes(bytes(data))


def test_a_damaged_archive_is_refused_and_changes_nothing(school_server, tmp_path):
    archive = tmp_path / "school.tar"
    school_server.run_command("backup", str(archive))
    damaged, cut, foreign = tmp_path / "damaged.tar", tmp_path / "cut.tar", tmp_path / "x.tar"
    corrupt_copy(archive, damaged)
    cut.write_bytes(archive.read_bytes()[:archive.stat().st_size // 2])
    foreign.write_bytes(b"not a tar at all" * 100)
    fresh = ServerProcess(tmp_path / "fresh")
    try:
        for bad, reason in ((damaged, "checksum does not match"), (cut, "not a whole"),
                            (foreign, "not a whole")):
            result = fresh.run_command("restore", str(bad), check=False)
            assert result.returncode == 4, result.stderr
            assert reason in result.stderr
        missing = fresh.run_command("restore", str(tmp_path / "nope.tar"), check=False)
        assert missing.returncode == 3
        assert not any((fresh.home / "content" / "storage").rglob("*.*"))
        assert not list((fresh.home / "content" / "tmp").glob("restore-*"))
        # Still fresh: the good archive restores without --force.
        fresh.run_command("restore", str(archive))
    finally:
        fresh.drop_database()


def test_status_and_healthz_on_a_real_server(tmp_path):
    with ServerProcess(tmp_path / "alone") as alone:
        response = requests.get(f"{alone.url}/healthz/", timeout=10)
        assert response.status_code == 503
        assert response.json()["failed"] == ["task_consumer"]
        result = alone.run_command("status", check=False)
        assert result.returncode == 6 and "task_consumer" in result.stderr
    with ServerProcess(tmp_path / "whole", consumer=True) as whole:
        deadline = 60
        while deadline > 0:
            response = requests.get(f"{whole.url}/healthz/", timeout=10)
            if response.status_code == 200:
                break
            threading.Event().wait(1)
            deadline -= 1
        assert response.status_code == 200, response.json()
        result = whole.run_command("status", "--json")
        assert json.loads(result.stdout)["status"] == "ok"
        # The consumer logs into a file of its own (two processes must not rotate one file).
        assert "consumer started" in (whole.home / "logs" / "consumer.log").read_text()
        assert "consumer started" not in (whole.home / "logs" / "kolibri-like.log").read_text()


def test_a_database_that_does_not_answer_is_a_clear_error(tmp_path):
    broken = ServerProcess(tmp_path / "broken",
                           env={"DATABASE_URL": f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3"})
    try:
        for arguments in (["backup", str(tmp_path / "b.tar")],
                          ["restore", str(tmp_path / "b.tar")]):
            if arguments[0] == "restore":
                (tmp_path / "b.tar").write_bytes(b"x")
            result = broken.run_command(*arguments, check=False)
            assert result.returncode == 6, result.stderr
            assert "cannot connect to the default database" in result.stderr
            assert "Traceback" not in result.stderr
    finally:
        broken.drop_database()
