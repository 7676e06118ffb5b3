"""`checkinvariants`: real states built with make_channel, broken by hand, each named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from channels.invariants import check_invariants
from channels.models import Channel, ChannelVersionFile, ContentImport
from channels.versions import version_database_path
from jobs.models import Job
from routers.registry import channel_database_path
from storage.models import StoredFile
from storage.paths import storage_path

pytestmark = pytest.mark.django_db

KOLIBRI_LIKE = str(Path(sys.executable).with_name("kolibri-like"))
THREE_DAYS = 3 * 24 * 60 * 60


def checks_of(report) -> list[str]:
    return sorted(violation.check for violation in report.violations)


def two_versions(make_channel):
    """A channel published twice (version 2 current) and another channel."""
    first = make_channel("first", topics=1, leaves=2)
    make_channel("second", channel_id=first.channel_id, topics=2, leaves=2)
    make_channel("other")
    return first.channel_id


def crash_in_make_current(monkeypatch, make_channel, label: str = "stuck") -> str:
    """Install a new channel and die where `make_version_current` would run (a SIGKILL there)."""

    def killed(channel_id, version):
        raise SystemExit("killed")

    monkeypatch.setattr("channels.versions.make_version_current", killed)
    channel_id = "c" * 32
    with pytest.raises(SystemExit):
        make_channel(label, channel_id=channel_id)
    monkeypatch.undo()
    return channel_id


def swap_served_file(channel_id: str, number: int) -> None:
    """Put another version's bytes in place of the served file, as a rename (never in place:
    the served file is a hard link of the kept version)."""
    served = channel_database_path(channel_id)
    staged = served.with_name("staged.tmp")
    staged.write_bytes(version_database_path(channel_id, number).read_bytes())
    os.replace(staged, served)


def corrupt(path: Path) -> None:
    """Overwrite every page after the first with junk, in place."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(4096)
        handle.write(b"\xa5" * (size - 4096))


def referenced_stored_file() -> StoredFile:
    checksum = ChannelVersionFile.objects.order_by("checksum").values_list(
        "checksum", flat=True).first()
    return StoredFile.objects.get(checksum=checksum)


def test_a_healthy_server_passes(make_channel, capsys):
    two_versions(make_channel)
    report = check_invariants(full=True)
    assert report.ok, [violation.line for violation in report.violations]
    assert report.md5_checked == StoredFile.objects.count() > 0
    call_command("checkinvariants")
    assert "All invariants hold" in capsys.readouterr().out


def test_an_empty_server_passes():
    assert check_invariants().ok


def test_it_names_a_kept_version_without_its_file(make_channel):
    channel_id = two_versions(make_channel)
    version_database_path(channel_id, 1).unlink()
    report = check_invariants()
    assert checks_of(report) == ["version-file"]
    assert str(version_database_path(channel_id, 1)) in report.violations[0].where
    assert "recover" in report.violations[0].fix


def test_it_names_a_row_stuck_being_installed(make_channel, monkeypatch):
    channel_id = crash_in_make_current(monkeypatch, make_channel)
    assert Channel.objects.get(id=channel_id).problem == "being installed"
    report = check_invariants()
    assert checks_of(report) == ["installing"]
    assert channel_id in report.violations[0].where


def test_it_names_a_served_file_the_registry_does_not_know(make_channel):
    channel_id = two_versions(make_channel)
    swap_served_file(channel_id, 1)
    report = check_invariants()
    assert checks_of(report) == ["channel-version"]
    assert "holds version 1, the registry says 2" in report.violations[0].what


def test_it_names_a_missing_served_file(make_channel):
    channel_id = two_versions(make_channel)
    channel_database_path(channel_id).unlink()
    assert checks_of(check_invariants()) == ["channel-file"]


def test_it_names_a_corrupt_channel_file(make_channel):
    channel_id = two_versions(make_channel)
    corrupt(channel_database_path(channel_id))
    report = check_invariants()
    assert checks_of(report) == ["channel-file"]
    assert "fails its checks" in report.violations[0].what
    assert "revertchannel" in report.violations[0].fix


def test_it_names_a_channel_file_filed_under_another_id(make_channel):
    channel_id = two_versions(make_channel)
    other = Channel.objects.exclude(id=channel_id).get()
    staged = channel_database_path(channel_id).with_name("staged.tmp")
    staged.write_bytes(channel_database_path(other.id).read_bytes())
    os.replace(staged, channel_database_path(channel_id))
    report = check_invariants()
    assert checks_of(report) == ["channel-file"]
    assert f"holds channel {other.id}" in report.violations[0].what


def test_it_names_old_temp_leftovers_only(make_channel, settings):
    two_versions(make_channel)
    old = Path(settings.CONTENT_TEMP_DIR) / "put-old.part"
    old.write_bytes(b"half")
    swap = Path(settings.CONTENT_DATABASE_DIR) / f".swap-{'d' * 32}-1234abcd.sqlite3"
    swap.write_bytes(b"half")
    assert check_invariants().ok, "young leftovers may belong to a running process"
    report = check_invariants(now=time.time() + THREE_DAYS)
    assert checks_of(report) == ["temp", "temp"]
    assert {violation.where for violation in report.violations} == {str(old), str(swap)}


def test_a_registry_row_without_its_file_is_named_but_a_file_never_imported_is_not(
        make_channel):
    two_versions(make_channel)
    files = list(StoredFile.objects.filter(
        checksum__in=ChannelVersionFile.objects.values("checksum")).order_by("checksum")[:2])
    claimed, not_imported = files
    storage_path(claimed.checksum, claimed.extension).unlink()
    # A partial import: neither file nor row. Not a violation.
    storage_path(not_imported.checksum, not_imported.extension).unlink()
    not_imported.delete()
    report = check_invariants()
    assert checks_of(report) == ["stored-file"]
    assert report.violations[0].where == str(storage_path(claimed.checksum, claimed.extension))
    assert "claims a file that is missing" in report.violations[0].what
    assert "used by channel" in report.violations[0].what


def test_it_names_wrong_sizes_and_with_full_wrong_bytes(make_channel):
    two_versions(make_channel)
    stored = referenced_stored_file()
    path = storage_path(stored.checksum, stored.extension)
    data = path.read_bytes()
    path.write_bytes(bytes([data[0] ^ 1]) + data[1:])
    report = check_invariants(full=True)
    assert checks_of(report) == ["stored-file"]
    assert "have MD5" in report.violations[0].what
    path.write_bytes(data + b"x")
    report = check_invariants(md5_sample=0)
    assert checks_of(report) == ["stored-file"]
    assert f"{len(data) + 1} bytes, the registry says {len(data)}" in report.violations[0].what


def test_it_names_an_import_nobody_runs(make_channel):
    channel_id = two_versions(make_channel)
    row = ContentImport.objects.create(channel_id=channel_id, source_kind="disk",
                                       source="/media/usb", version=2)
    report = check_invariants()
    assert checks_of(report) == ["import"]
    assert f"import {row.pk}" in report.violations[0].where


def test_it_reaps_before_judging_jobs(db):
    beat = timezone.now() - timedelta(hours=1)
    job = Job.objects.create(kind="nothing", state=Job.State.RUNNING, attempts=3,
                             started_at=beat, heartbeat_at=beat)
    assert check_invariants().ok
    job.refresh_from_db()
    assert job.state == Job.State.FAILED


def test_the_command_exits_4_with_one_line_per_violation(make_channel, capsys):
    channel_id = two_versions(make_channel)
    version_database_path(channel_id, 1).unlink()
    swap_served_file(channel_id, 2)  # same version: not a violation
    channel_database_path(channel_id).unlink()
    with pytest.raises(CommandError) as raised:
        call_command("checkinvariants")
    assert raised.value.returncode == 4
    assert "2 invariant violation(s)" in str(raised.value)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all("(fix: " in line for line in lines)
    with pytest.raises(CommandError):
        call_command("checkinvariants", "--json")
    shown = json.loads(capsys.readouterr().out)
    assert shown["ok"] is False and shown["violation_count"] == 2
    assert {item["check"] for item in shown["violations"]} == {"channel-file", "version-file"}


def test_the_command_on_a_fresh_home_exits_0(tmp_path: Path):
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DJANGO_SETTINGS_MODULE", "CONTENT_DIR")}
    environment.update({"KOLIBRI_LIKE_HOME": str(tmp_path), "ZEROCONF_ENABLED": "0"})
    for arguments in (["migrate", "--noinput"], ["recover"], ["checkinvariants"]):
        result = subprocess.run([KOLIBRI_LIKE, *arguments], env=environment,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (arguments, result.stdout, result.stderr)
    assert "All invariants hold" in result.stdout
