"""`scanchannels` with a channel file in an older Studio schema dropped straight into
CONTENT_DIR/databases/: a normalised copy is installed and served, the dropped file is kept
byte for byte, and the output says what was done."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from django.test import Client

from channels.dropped import kept_folder
from channels.models import Channel, ChannelVersion
from channels.normalise import schema_of
from channels.schema_versions import CURRENT
from channels.versions import version_database_path
from tests.channels.test_schema_versions import old_shape
from tests.channels.transfer import conftest as transfer
from tests.channels.transfer.helpers import run

second_server = transfer.second_server
pytestmark = pytest.mark.django_db


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def older_file(make_channel, tmp_path) -> tuple[str, Path, int]:
    """A channel's file reshaped as Studio published it in schema 3, kept outside the server."""
    built = make_channel("shapes", topics=2, leaves=2)
    older = tmp_path / "older.sqlite3"
    shutil.copyfile(built.path, older)
    old_shape(older, "3")
    return built.channel_id, older, built.version


@pytest.mark.parametrize("schema_name", ["3", "unversioned"])
def test_a_dropped_older_file_is_served_as_a_normalised_copy(make_channel, tmp_path,
                                                              second_server, client, schema_name):
    built = make_channel("shapes", topics=2, leaves=2)
    older = tmp_path / "older.sqlite3"
    shutil.copyfile(built.path, older)
    old_shape(older, schema_name)
    second = second_server()
    dropped = second / "databases" / f"{built.channel_id}.sqlite3"
    shutil.copyfile(older, dropped)
    dropped_md5 = md5(dropped)
    # The scan at start-up (without the normalising step) refused it for its schema.
    from channels.services import scan_channels

    assert built.channel_id in scan_channels().rejected

    code, out, err = run("scanchannels")
    assert code == 0, err
    assert f"normalised {built.channel_id}" in out and "older schema" in out
    assert "1 channel(s) served, 0 left out" in out
    assert schema_of(dropped).name == CURRENT  # the served path holds the copy now
    [kept] = list(kept_folder().iterdir())
    assert md5(kept) == dropped_md5 and str(kept) in out
    channel = Channel.objects.get(id=built.channel_id)
    assert channel.state == Channel.State.AVAILABLE and channel.version == built.version
    assert ChannelVersion.objects.get(channel_id=built.channel_id).source.startswith(
        "found in databases/")
    nodes = client.get(f"/api/content/{built.channel_id}/contentnode/?page_size=100").json()
    assert nodes["count"] == built.node_count

    # A second scan finds nothing new to do.
    code, out, _err = run("scanchannels")
    assert code == 0 and "normalised" not in out and len(list(kept_folder().iterdir())) == 1


def test_an_older_copy_of_a_kept_version_serves_the_kept_copy(older_file, content_dir):
    channel_id, older, version = older_file
    served = content_dir / "databases" / f"{channel_id}.sqlite3"
    # The admin moved an old-schema file over the served one (a copy onto it would write into
    # the kept version too: the served file is a hard link to it).
    moved = served.with_name("incoming.tmp")
    shutil.copyfile(older, moved)
    moved.replace(served)
    code, out, err = run("scanchannels")
    assert code == 0, err
    assert f"version {version} of {channel_id} is already kept here" in out
    assert md5(served) == md5(version_database_path(channel_id, version))
    assert schema_of(served).name == CURRENT
    assert Channel.objects.get(id=channel_id).state == Channel.State.AVAILABLE
    [kept] = list(kept_folder().iterdir())
    assert md5(kept) == md5(older)


def test_a_damaged_dropped_file_is_still_left_out_with_the_reason(older_file, second_server):
    channel_id, older, _version = older_file
    second = second_server()
    dropped = second / "databases" / f"{channel_id}.sqlite3"
    data = bytearray(older.read_bytes())
    data[100:4096] = bytes(3996)  # the first page's schema is gone
    dropped.write_bytes(bytes(data))
    code, out, err = run("scanchannels")
    assert "normalised" not in out and f"left out {channel_id}" in err
    assert dropped.read_bytes() == bytes(data)
    assert not kept_folder().exists() or not list(kept_folder().iterdir())


def test_the_admin_pages_rescan_task_serves_the_normalised_copy_too(
        older_file, second_server, admin_user, django_capture_on_commit_callbacks, settings):
    settings.JOBS = {"PROGRESS_WRITE_SECONDS": 0}
    channel_id, older, _version = older_file
    second = second_server()
    shutil.copyfile(older, second / "databases" / f"{channel_id}.sqlite3")
    client = Client()
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/api/tasks/", json.dumps({"kind": "scan"}),
                              content_type="application/json")
    assert started.status_code == 201, started.content
    body = client.get(f"/api/tasks/{started.json()['id']}/").json()
    assert body["state"] == "done", body
    [message] = body["result"]["normalised"]
    assert "installed a normalised copy" in message
    assert Channel.objects.get(id=channel_id).state == Channel.State.AVAILABLE
