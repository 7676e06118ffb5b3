"""Versions: every install keeps an immutable file; revert swaps files, never rows."""

from __future__ import annotations

import json
import os
import shutil
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from channels.builder import ChannelSpec, build_channel
from channels.errors import (
    ChannelBusyError,
    ChannelNotFoundError,
    VersionExistsError,
    VersionNotFoundError,
)
from channels.locks import channel_lock
from channels.models import Channel, ChannelVersion, ChannelVersionFile
from channels.services import scan_channels
from channels.versions import (
    delete_channel,
    install_channel_version,
    revert_channel,
    version_database_path,
    versions_dir,
)
from content.models import ContentNode
from routers.context import using_content_database
from routers.registry import channel_database_path
from storage.models import StoredFile
from tests.conftest import small_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(make_channel):
    first = make_channel("first", topics=1, leaves=2, version_label="spring term")
    second = make_channel("second", channel_id=first.channel_id, topics=2, leaves=3)
    return first, second


def root_title(channel_id: str) -> str:
    with using_content_database(channel_id):
        return ContentNode.objects.get(parent=None).title


def test_each_publish_keeps_a_numbered_version(two_versions):
    first, second = two_versions
    assert (first.version, second.version) == (1, 2)
    channel = Channel.objects.get(id=first.channel_id)
    assert channel.version == 2
    versions = list(ChannelVersion.objects.filter(channel=channel).order_by("number"))
    assert [(v.number, v.node_count, v.version_label) for v in versions] == [
        (1, 4, "spring term"), (2, 9, "")]
    for version in versions:
        assert version_database_path(first.channel_id, version.number).is_file()
    assert root_title(first.channel_id) == "second root"


def test_a_version_records_its_files_with_readable_names(two_versions):
    first, _second = two_versions
    version = ChannelVersion.objects.get(channel_id=first.channel_id, number=1)
    files = list(ChannelVersionFile.objects.filter(version=version).order_by("name"))
    assert [row.name for row in files] == ["first leaf 0.0.pdf", "first leaf 0.1.pdf"]
    assert all(StoredFile.objects.filter(checksum=row.checksum).exists() for row in files)
    assert version.file_count == 2


def test_revert_makes_an_old_version_current_without_copying(two_versions):
    first, _second = two_versions
    channel = revert_channel(first.channel_id, 1)
    assert channel.version == 1 and channel.node_count == 4
    assert channel.version_label == "spring term"
    assert root_title(first.channel_id) == "first root"
    served, kept = channel_database_path(first.channel_id), version_database_path(
        first.channel_id, 1)
    # The served file is the kept version itself (a hard link): nothing was copied.
    assert os.path.samefile(served, kept)
    revert_channel(first.channel_id, 2)
    assert root_title(first.channel_id) == "second root"
    assert Channel.objects.get(id=first.channel_id).version == 2


def test_the_kept_version_is_intact_after_reverting_back(two_versions):
    first, _second = two_versions
    revert_channel(first.channel_id, 1)
    revert_channel(first.channel_id, 2)
    revert_channel(first.channel_id, 1)
    assert root_title(first.channel_id) == "first root"
    assert version_database_path(first.channel_id, 2).stat().st_size > 0


def test_revert_to_an_unknown_version_fails_clearly(two_versions):
    first, _second = two_versions
    with pytest.raises(VersionNotFoundError):
        revert_channel(first.channel_id, 7)
    with pytest.raises(ChannelNotFoundError):
        revert_channel("0" * 32, 1)
    with pytest.raises(ChannelNotFoundError):
        revert_channel("../../etc", 1)


def test_an_operation_in_progress_blocks_a_second_one(two_versions):
    first, _second = two_versions
    with channel_lock(first.channel_id):
        with pytest.raises(ChannelBusyError):
            revert_channel(first.channel_id, 1)
        with pytest.raises(CommandError) as raised:
            call_command("revertchannel", first.channel_id, "1")
        assert raised.value.returncode == 7
    assert Channel.objects.get(id=first.channel_id).version == 2


def test_a_version_number_is_installed_once(two_versions, content_dir):
    first, _second = two_versions
    copy = content_dir / "tmp" / "again.sqlite3"
    shutil.copyfile(version_database_path(first.channel_id, 1), copy)
    with pytest.raises(VersionExistsError):
        install_channel_version(copy, first.channel_id, source_label="disk /media/usb")
    assert ChannelVersion.objects.filter(channel_id=first.channel_id).count() == 2


def test_delete_removes_the_channel_but_leaves_files_for_the_collector(two_versions):
    first, _second = two_versions
    stored_before = StoredFile.objects.count()
    delete_channel(first.channel_id)
    assert not Channel.objects.filter(id=first.channel_id).exists()
    assert not ChannelVersion.objects.filter(channel_id=first.channel_id).exists()
    assert not channel_database_path(first.channel_id).exists()
    assert not versions_dir(first.channel_id).exists()
    assert StoredFile.objects.count() == stored_before
    with pytest.raises(ChannelNotFoundError):
        delete_channel(first.channel_id)


def test_readers_see_one_whole_version_while_reverts_run(two_versions):
    """Each read block asks twice (title, then count); both answers must come from one version."""
    first, _second = two_versions
    expected = {("first root", 4), ("second root", 9)}
    seen: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            for _round in range(2000):
                if stop.is_set():
                    break
                with using_content_database(first.channel_id):
                    title = ContentNode.objects.get(parent=None).title
                    count = ContentNode.objects.count()
                seen.append((title, count))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            from django.db import connections

            connections.close_all()

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for round_number in range(20):
            revert_channel(first.channel_id, 1 if round_number % 2 == 0 else 2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    assert seen and set(seen) <= expected
    assert len(set(seen)) == 2, "readers never saw the other version"


def test_a_file_dropped_into_databases_is_kept_as_a_version(make_channel, content_dir, tmp_path):
    built = make_channel("dropped")
    outside = tmp_path / "elsewhere.sqlite3"
    shutil.copyfile(built.path, outside)
    Channel.objects.all().delete()
    shutil.rmtree(versions_dir(built.channel_id))
    built.path.unlink()
    shutil.copyfile(outside, built.path)
    report = scan_channels()
    assert report.registered == [built.channel_id]
    version = ChannelVersion.objects.get(channel_id=built.channel_id)
    assert version.source == "found in the databases folder"
    assert os.path.samefile(version_database_path(built.channel_id, version.number), built.path)


def test_channelversions_lists_versions_and_marks_the_current_one(two_versions, capsys):
    first, _second = two_versions
    call_command("channelversions", first.channel_id)
    output = capsys.readouterr().out
    assert "* v2" in output and "  v1 \"spring term\"" in output
    call_command("channelversions", first.channel_id, "--json")
    rows = json.loads(capsys.readouterr().out)
    assert [(row["number"], row["current"]) for row in rows] == [(2, True), (1, False)]


@pytest.mark.parametrize("arguments,code", [
    (["revertchannel", "f" * 32, "1"], 3),
    (["deletechannel", "f" * 32], 3),
    (["channelversions", "f" * 32], 3),
    (["channelversions", "not-an-id"], 3),
])
def test_commands_exit_with_the_documented_codes(arguments, code):
    with pytest.raises(CommandError) as raised:
        call_command(*arguments)
    assert raised.value.returncode == code


def test_revertchannel_and_deletechannel_commands(two_versions, capsys):
    first, _second = two_versions
    call_command("revertchannel", first.channel_id, "1")
    assert "now serves version 1" in capsys.readouterr().out
    call_command("deletechannel", first.channel_id)
    assert not Channel.objects.filter(id=first.channel_id).exists()


def test_a_rebuilt_channel_keeps_unchanged_node_ids(make_channel):
    first = make_channel("stable", topics=1, leaves=2)
    with using_content_database(first.channel_id):
        before = dict(ContentNode.objects.values_list("title", "id"))
    build_channel(ChannelSpec(name="Stable", id=first.channel_id,
                              root=small_tree("stable", 1, 2)))
    with using_content_database(first.channel_id):
        after = dict(ContentNode.objects.values_list("title", "id"))
    assert before == after
    assert Channel.objects.get(id=first.channel_id).version == 2


def test_an_install_that_fails_leaves_no_intent_for_recovery(make_channel, monkeypatch):
    """Only a killed install leaves its intent marker; one that raised cleaned up, so recovery
    never makes current a version whose install failed on purpose."""
    from channels import versions
    from channels.recovery import recover

    first = make_channel("maths")

    def broken(channel_id, version):
        raise OSError("disk went away")

    monkeypatch.setattr(versions, "make_version_current", broken)
    with pytest.raises(OSError):
        make_channel("maths", channel_id=first.channel_id, root=small_tree("algebra"))
    monkeypatch.undo()
    assert versions.install_intents() == []
    recover()
    assert Channel.objects.get(id=first.channel_id).version == 1
