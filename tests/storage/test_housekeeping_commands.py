"""`gcstorage`, `purgetemp`, `verifystorage`: output and exit codes, in-process and as real
`kolibri-like` processes; and the hourly Huey tasks that run the first two."""

from __future__ import annotations

import fcntl
import io
import os
import time
import types
from datetime import datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import storage.temp as temp_module
from storage.files import put_file
from storage.gc import maintenance_lock
from storage.models import StoredFile
from storage.paths import storage_path
from storage.tasks import collect_garbage_task, purge_temp_task
from tests.servers import ServerProcess

pytestmark = pytest.mark.django_db

DAY = 24 * 60 * 60


def run(name: str, *arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *arguments, stdout=out, stderr=err)
        code = 0
    except CommandError as error:
        code = error.returncode
        err.write(str(error))
    return code, out.getvalue(), err.getvalue()


def test_gcstorage_deletes_garbage_and_reports_bytes(make_channel, settings):
    make_channel("maths")
    garbage = put_file(b"x" * 1234, "pdf")
    settings.STORAGE_GC_GRACE_SECONDS = 0

    code, out, _err = run("gcstorage")

    assert code == 0
    assert "Deleted 1 file(s), freed 1,234 bytes." in out
    assert "6 referenced (channels: 6, drafts: 0)" in out
    assert not garbage.path.exists()


def test_gcstorage_dry_run_lists_and_keeps(make_channel, settings):
    make_channel("maths")
    garbage = put_file(b"y" * 10, "pdf")
    settings.STORAGE_GC_GRACE_SECONDS = 0

    code, out, _err = run("gcstorage", "--dry-run")

    assert code == 0
    assert f"would delete {garbage.checksum}.pdf (10 bytes)" in out
    assert "Would delete 1 file(s), would free 10 bytes." in out
    assert garbage.path.exists()


def test_gcstorage_keeps_young_files_by_default(make_channel):
    make_channel("maths")
    garbage = put_file(b"young", "pdf")
    code, out, _err = run("gcstorage")
    assert code == 0 and "1 younger than the grace period (86,400 s)" in out
    assert garbage.path.exists()


def test_gcstorage_names_a_failing_source_and_deletes_nothing(make_channel, settings):
    make_channel("maths")
    garbage = put_file(b"z", "pdf")
    settings.STORAGE_GC_GRACE_SECONDS = 0
    settings.STORAGE_REFERENCE_SOURCES = ["channels.references.ChannelReferenceSource",
                                          "tests.storage.test_gc.BrokenSource"]

    code, _out, err = run("gcstorage")

    assert code == 6
    assert "broken-certificates" in err and "nothing was deleted" in err
    assert garbage.path.exists()


def test_gcstorage_exits_7_while_another_collector_runs(make_channel):
    make_channel("maths")
    with maintenance_lock():
        code, _out, err = run("gcstorage", "--wait", "0.2")
    assert code == 7 and "another garbage collection" in err


def test_purgetemp_removes_old_and_keeps_new(content_dir, monkeypatch):
    now = time.time() + 2 * DAY
    monkeypatch.setattr(temp_module, "time", types.SimpleNamespace(time=lambda: now))
    old = content_dir / "tmp" / "put-old.part"
    old.write_bytes(b"crashed upload")
    young = content_dir / "tmp" / "put-young.part"
    young.write_bytes(b"uploading")
    os.utime(young, (now - 60, now - 60))

    code, out, _err = run("purgetemp")

    assert code == 0
    assert "Removed 1 entry, freed 14 bytes; kept 1 younger than a day." in out
    assert not old.exists() and young.exists()


def test_verifystorage_exits_0_on_a_clean_store(make_channel):
    make_channel("maths")
    code, out, err = run("verifystorage")
    assert code == 0
    assert "Checked 6 file(s): 0 missing, 0 corrupt, 0 orphaned" in out
    assert "files checked: 6/6 (100%)" in err  # plain progress lines off a terminal


def test_verifystorage_exits_4_and_names_the_channel(make_channel):
    maths = make_channel("maths")
    row = StoredFile.objects.order_by("checksum").first()
    storage_path(row.checksum, row.extension).unlink()

    code, out, err = run("verifystorage")

    assert code == 4
    assert f"missing {row.checksum}.{row.extension}" in out
    assert f"affected: channel Maths ({maths.channel_id}) version 1, current: 1 file(s)" in out
    assert "1 problem(s) found" in err and "--repair" in err


def test_verifystorage_repair_quarantines_and_says_so(make_channel, content_dir):
    make_channel("maths")
    row = StoredFile.objects.order_by("checksum").first()
    storage_path(row.checksum, row.extension).write_bytes(b"garbled")

    code, out, _err = run("verifystorage", "--repair")

    assert code == 4
    assert f"corrupt {row.checksum}.{row.extension}" in out and "moved to" in out
    assert len(list((content_dir / "quarantine").iterdir())) == 1
    assert run("verifystorage")[0] == 0


def test_the_periodic_tasks_run_hourly_and_call_the_services(make_channel, settings,
                                                             content_dir, monkeypatch):
    from kolibri_like.huey_app import HUEY

    at_17 = {task.name for task in HUEY.read_periodic(datetime(2030, 1, 1, 3, 17))}
    at_47 = {task.name for task in HUEY.read_periodic(datetime(2030, 1, 1, 9, 47))}
    assert any(name.endswith("collect_garbage_task") for name in at_17)
    assert any(name.endswith("purge_temp_task") for name in at_47)
    assert not any(name.endswith("collect_garbage_task") for name in at_47)

    make_channel("maths")
    garbage = put_file(b"collected by the hourly task", "pdf")
    settings.STORAGE_GC_GRACE_SECONDS = 0
    collect_garbage_task()  # enqueued as the consumer would; immediate mode runs it inline
    assert not garbage.path.exists()

    # Huey keeps no results of periodic tasks; call_local runs the shim and returns its value.
    assert collect_garbage_task.call_local()["deleted"] == 0
    with maintenance_lock():
        assert "skipped" in collect_garbage_task.call_local()
    crashed = content_dir / "tmp" / "put-crashed.part"
    crashed.write_bytes(b"left by a crash")
    assert purge_temp_task.call_local() == {"removed": 0, "kept": 1, "bytes_freed": 0,
                                            "failed": 0}
    tomorrow_and_a_bit = time.time() + DAY + 60
    monkeypatch.setattr(temp_module, "time",
                        types.SimpleNamespace(time=lambda: tomorrow_and_a_bit))
    purge_temp_task()
    assert not crashed.exists()


@pytest.mark.server
def test_real_processes_exit_with_the_documented_codes(tmp_path: Path):
    server = ServerProcess(tmp_path / "server")
    server.run_command("migrate", "--noinput")
    assert "Deleted 0 file(s)" in server.run_command("gcstorage").stdout
    assert server.run_command("purgetemp").returncode == 0
    assert server.run_command("verifystorage").returncode == 0

    lock = server.content_dir / "locks" / "gc.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        busy = server.run_command("gcstorage", check=False)
        assert busy.returncode == 7 and "another garbage collection" in busy.stderr
        assert server.run_command("verifystorage", check=False).returncode == 7
    finally:
        os.close(descriptor)

    loose = server.content_dir / "storage" / "a" / "b" / ("ab" + "0" * 30 + ".bin")
    loose.parent.mkdir(parents=True)
    loose.write_bytes(b"not what its name says")
    corrupt = server.run_command("verifystorage", check=False)
    assert corrupt.returncode == 4 and "corrupt" in corrupt.stdout
