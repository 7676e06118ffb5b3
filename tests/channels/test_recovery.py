"""`recover`: what a crash leaves half-done is put right, and `checkinvariants` is clean after.

States are built for real with make_channel and broken by hand (helpers in test_invariants).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from content.search.index import search_index_path
from channels.invariants import check_invariants
from channels.models import Channel, ChannelVersion, ContentImport
from channels.recovery import recover
from channels.transfer.locking import import_lock
from channels.versions import revert_channel, version_database_path
from jobs.models import Job
from routers.registry import channel_database_path
from storage.paths import storage_path
from storage.verify import verify_storage
from tests.channels.test_invariants import (
    THREE_DAYS,
    checks_of,
    corrupt,
    crash_in_make_current,
    referenced_stored_file,
    swap_served_file,
    two_versions,
)

pytestmark = pytest.mark.django_db


def assert_clean() -> None:
    report = check_invariants(full=True, now=time.time() + THREE_DAYS)
    assert report.ok, [violation.line for violation in report.violations]


def test_a_healthy_server_needs_no_repair(make_channel):
    two_versions(make_channel)
    assert recover().repairs == []
    assert_clean()


def test_an_install_killed_before_the_swap_is_finished(make_channel, monkeypatch):
    channel_id = crash_in_make_current(monkeypatch, make_channel)
    assert not channel_database_path(channel_id).exists()
    report = recover()
    assert report.repairs == [f"channel {channel_id}: install finished, version 1 made current"]
    channel = Channel.objects.get(id=channel_id)
    assert (channel.state, channel.version, channel.problem) == ("available", 1, "")
    assert channel_database_path(channel_id).is_file()
    assert_clean()
    assert recover().repairs == [], "a second run has nothing to do"


def test_an_install_killed_after_the_rename_keeps_the_served_file(make_channel, monkeypatch):
    channel_id = crash_in_make_current(monkeypatch, make_channel)
    os.link(version_database_path(channel_id, 1), channel_database_path(channel_id))
    report = recover()
    assert "serving version 1" in report.repairs[0]
    assert Channel.objects.get(id=channel_id).state == Channel.State.AVAILABLE
    assert_clean()


def test_a_half_installed_channel_without_its_file_is_forgotten(make_channel, monkeypatch):
    channel_id = crash_in_make_current(monkeypatch, make_channel)
    version_database_path(channel_id, 1).unlink()
    report = recover()
    assert any("forgot half-made version(s) 1" in line for line in report.repairs)
    assert any("forgot the half-installed channel" in line for line in report.repairs)
    assert not Channel.objects.filter(id=channel_id).exists()
    assert_clean()


def test_the_registry_follows_the_served_file(make_channel, client):
    channel_id = two_versions(make_channel)
    swap_served_file(channel_id, 1)
    report = recover()
    assert report.repairs == [f"channel {channel_id}: registry said version 2, the served file "
                              "holds 1; registry updated"]
    channel = Channel.objects.get(id=channel_id)
    assert channel.version == 1 and channel.node_count == 4
    response = client.get("/api/channels/")
    listed = {item["id"]: item["version"] for item in response.json()["results"]}
    assert listed[channel_id] == 1
    assert_clean()


def test_a_missing_served_file_is_restored_from_its_kept_copy(make_channel):
    channel_id = two_versions(make_channel)
    channel_database_path(channel_id).unlink()
    report = recover()
    assert "served file was missing; restored version 2" in report.repairs[0]
    assert Channel.objects.get(id=channel_id).version == 2
    assert_clean()


def test_a_missing_kept_copy_of_the_current_version_is_restored(make_channel):
    channel_id = two_versions(make_channel)
    version_database_path(channel_id, 2).unlink()
    report = recover()
    assert "kept copy of current version 2 restored" in report.repairs[0]
    assert version_database_path(channel_id, 2).is_file()
    assert_clean()
    revert_channel(channel_id, 1)
    revert_channel(channel_id, 2)


def test_an_old_version_whose_file_is_gone_is_forgotten(make_channel):
    channel_id = two_versions(make_channel)
    version_database_path(channel_id, 1).unlink()
    assert search_index_path(channel_id, 1).is_file()
    report = recover()
    assert report.repairs == [f"channel {channel_id}: forgot version 1 (its file is gone; it "
                              "can no longer be reverted to)"]
    assert not search_index_path(channel_id, 1).exists()
    assert list(ChannelVersion.objects.filter(channel_id=channel_id)
                .values_list("number", flat=True)) == [2]
    assert_clean()


def test_nothing_is_forgotten_when_the_channel_files_are_all_gone(make_channel):
    channel_id = two_versions(make_channel)
    version_database_path(channel_id, 1).unlink()
    version_database_path(channel_id, 2).unlink()
    channel_database_path(channel_id).unlink()
    report = recover()
    assert report.repairs == []
    assert ChannelVersion.objects.filter(channel_id=channel_id).count() == 2
    assert checks_of(check_invariants()) == ["channel-file", "version-file", "version-file"]


def test_old_leftovers_go_and_young_ones_stay(make_channel, settings):
    channel_id = two_versions(make_channel)
    databases = Path(settings.CONTENT_DATABASE_DIR)
    temp = Path(settings.CONTENT_TEMP_DIR)
    leftovers = [databases / f".swap-{channel_id}-1234abcd.sqlite3",
                 databases / "versions" / channel_id / ".2.sqlite3.1234abcd.partial",
                 temp / "put-abc.part"]
    for path in leftovers:
        path.write_bytes(b"half")
    upload = temp / "upload-in-flight"
    upload.write_bytes(b"not ours to judge")
    assert recover().repairs == [], "younger than an hour: may belong to a running process"
    report = recover(now=time.time() + 2 * 60 * 60)
    assert sorted(report.repairs) == sorted(f"removed leftover {path}" for path in leftovers)
    assert not any(path.exists() for path in leftovers)
    assert upload.exists(), "only put-*.part: the rest of the temp area is purgetemp's"
    assert channel_database_path(channel_id).is_file()


def test_a_job_whose_worker_died_is_reaped(db):
    beat = timezone.now() - timedelta(hours=1)
    job = Job.objects.create(kind="nothing", state=Job.State.RUNNING, attempts=3,
                             started_at=beat, heartbeat_at=beat)
    report = recover()
    assert report.repairs == [f"task {job.id}: its worker died too often; marked failed"]
    job.refresh_from_db()
    assert job.state == Job.State.FAILED


def test_an_import_left_running_by_a_dead_process_is_interrupted(make_channel):
    channel_id = two_versions(make_channel)
    dead = ContentImport.objects.create(channel_id=channel_id, source_kind="disk",
                                        source="/media/usb", version=2)
    other_id = Channel.objects.exclude(id=channel_id).get().id
    live = ContentImport.objects.create(channel_id=other_id, source_kind="disk",
                                        source="/media/usb", version=1)
    with import_lock(other_id):
        report = recover()
    assert report.repairs == [f"import {dead.pk} of channel {channel_id}: its process is gone; "
                              "marked interrupted (run it again to resume)"]
    dead.refresh_from_db()
    live.refresh_from_db()
    assert dead.state == ContentImport.State.INTERRUPTED and "resume" in dead.problem
    assert live.state == ContentImport.State.RUNNING
    live.delete()
    assert_clean()


def test_a_corrupt_channel_file_is_left_for_the_admin(make_channel):
    channel_id = two_versions(make_channel)
    corrupt(channel_database_path(channel_id))  # also its kept copy: the same inode
    recover()
    assert checks_of(check_invariants()) == ["channel-file"]
    call_command("revertchannel", channel_id, "1")
    assert_clean()


def test_a_registry_row_without_its_file_is_repaired_by_verifystorage(make_channel):
    two_versions(make_channel)
    stored = referenced_stored_file()
    storage_path(stored.checksum, stored.extension).unlink()
    recover()
    assert checks_of(check_invariants()) == ["stored-file"]
    verify_storage(repair=True)
    assert_clean()


def test_a_broken_server_is_repaired_in_one_run(make_channel, monkeypatch, capsys):
    stuck_id = crash_in_make_current(monkeypatch, make_channel)
    channel_id = two_versions(make_channel)
    swap_served_file(channel_id, 1)
    assert checks_of(check_invariants()) == ["channel-version", "installing"]
    call_command("recover")
    output = capsys.readouterr().out
    assert stuck_id in output and channel_id in output
    assert "Recovery done: 2 repair(s), 0 left" in output
    call_command("checkinvariants")


@pytest.mark.server
def test_start_runs_recovery_before_the_scan(tmp_path: Path):
    """Without recovery first, the scan would mark the channel missing and stop serving it."""
    import json

    import requests

    from tests.servers import ServerProcess

    server = ServerProcess(tmp_path / "server")
    try:
        server.run_command("migrate", "--noinput")
        server.run_command("generate_demo_channel", "--nodes", "20", "--seed", "1")
        served = list((server.content_dir / "databases").glob("*.sqlite3"))
        assert len(served) == 1
        channel_id = served[0].name.removesuffix(".sqlite3")
        served[0].unlink()
        server.start()
        listed = requests.get(f"{server.url}/api/channels/", timeout=30).json()
        assert [item["id"] for item in listed["results"]] == [channel_id]
        assert "served file was missing; restored version" in server.output()
        checked = server.run_command("checkinvariants", "--json")
        assert json.loads(checked.stdout)["ok"] is True
    finally:
        server.stop()
        server.drop_database()


def test_a_channel_another_operation_holds_is_left_alone(make_channel):
    from channels.locks import channel_lock

    channel_id = two_versions(make_channel)
    swap_served_file(channel_id, 1)
    with channel_lock(channel_id):
        report = recover()
        assert report.repairs == []
        assert report.left == [f"channel {channel_id}: another operation holds it; not checked"]
        judged = check_invariants()
        assert judged.ok and judged.busy == [channel_id], "a switch in flight is not a violation"
    assert Channel.objects.get(id=channel_id).version == 2
    assert recover().repairs and Channel.objects.get(id=channel_id).version == 1


def test_a_stuck_install_whose_kept_file_is_corrupt_is_not_served(make_channel, monkeypatch):
    channel_id = crash_in_make_current(monkeypatch, make_channel)
    corrupt(version_database_path(channel_id, 1))
    report = recover()
    assert report.repairs == []
    assert "no kept version passes the checks" in report.left[0]
    assert not channel_database_path(channel_id).exists()
    assert checks_of(check_invariants()) == ["installing"]


def test_one_damaged_channel_does_not_stop_the_repair_of_the_others(make_channel, monkeypatch):
    channel_id = two_versions(make_channel)
    other_id = Channel.objects.exclude(id=channel_id).get().id
    channel_database_path(other_id).unlink()
    swap_served_file(channel_id, 1)

    def broken_disk(channel_id, version):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("channels.recovery.make_version_current", broken_disk)
    report = recover()
    assert any(other_id in line and "Input/output error" in line for line in report.left)
    assert Channel.objects.get(id=channel_id).version == 1, "the other channel was repaired"


def test_a_version_file_an_install_never_registered_is_removed(make_channel):
    channel_id = two_versions(make_channel)
    ChannelVersion.objects.filter(channel_id=channel_id, number=1).delete()
    new_id = "e" * 32
    stray = version_database_path(new_id, 1)
    stray.parent.mkdir(parents=True)
    stray.write_bytes(version_database_path(channel_id, 2).read_bytes())
    report = check_invariants()
    assert checks_of(report) == ["version-file", "version-file"]
    assert all("without a registry row" in item.what for item in report.violations)
    repairs = recover().repairs
    assert len(repairs) == 2 and all("removed version file" in line for line in repairs)
    assert not version_database_path(channel_id, 1).exists() and not stray.parent.exists()
    assert version_database_path(channel_id, 2).is_file(), "the current version is kept"
    assert_clean()
    make_channel("again", channel_id=new_id)
    assert ChannelVersion.objects.filter(channel_id=new_id).count() == 1
