"""`importcontent` (drive and peer) keeps no HTML5 app zip that fails the archive checks: a zip
bomb, a `../` or absolute name, no index.html. Each is skipped and reported with its reason
(exit 4, like a damaged file) and the channel's other files still import."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from channels.builder import FileSpec, NodeSpec
from channels.transfer.disk import export_content_to_disk
from storage.models import StoredFile
from storage.paths import storage_path
from tests.channels.test_normalise import PeerWithDatabase
from tests.channels.transfer import conftest as transfer
from tests.channels.transfer.conftest import temp_entries
from tests.channels.transfer.helpers import run

drive, second_server = transfer.drive, transfer.second_server
pytestmark = pytest.mark.django_db
INDEX = b"<!doctype html><title>Counting</title>"


def app_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            # A ZipInfo keeps the name as given (writestr with a str strips a leading "/").
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


APPS = {
    "good": (app_zip({"index.html": INDEX, "js/app.js": b"let n = 1;"}), None),
    # 64 MiB of zeros in about 64 KiB: a thousand to one.
    "bomb": (app_zip({"index.html": INDEX, "zeros.bin": bytes(64 << 20)}), "inflates"),
    "climbs out": (app_zip({"index.html": INDEX, "../x.html": INDEX}), "'../x.html'"),
    "absolute": (app_zip({"index.html": INDEX, "/abs.html": INDEX}), "'/abs.html'"),
    "no index": (app_zip({"start.html": INDEX}), "no index.html"),
}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def apps_on_drive(make_channel, drive: Path):
    """A channel with one HTML5 app per case and one PDF, exported whole to a drive."""
    root = NodeSpec(title="Counting", kind="topic", children=[
        NodeSpec(title=f"App {name}", kind="html5",
                 files=[FileSpec("html5_zip", "zip", data)]) for name, (data, _) in APPS.items()])
    root.children.append(NodeSpec(title="Sheet", kind="document", files=[
        FileSpec("document", "pdf", b"%PDF-1.4 counting sheet\n")]))
    built = make_channel("counting", root=root)
    export_content_to_disk(built.channel_id, drive)
    return built


def assert_only_good_apps_kept(err: str) -> None:
    for name, (data, reason) in APPS.items():
        present = StoredFile.objects.filter(checksum=md5(data)).exists()
        on_disk = storage_path(md5(data), "zip").exists()
        if reason is None:
            assert present and on_disk, name
        else:
            assert not present and not on_disk, name
            line = next(line for line in err.splitlines() if md5(data) in line)
            assert reason in line, (name, line)
    assert StoredFile.objects.filter(extension="pdf").count() == 1


def test_a_drive_import_skips_and_reports_the_zips_that_fail(apps_on_drive, drive,
                                                             second_server):
    second = second_server()
    assert run("importchannel", "disk", apps_on_drive.channel_id, str(drive))[0] == 0
    code, out, err = run("importcontent", "disk", apps_on_drive.channel_id, str(drive))
    assert code == 4, out + err
    assert_only_good_apps_kept(err)
    assert temp_entries(second) == []
    # A re-run does not let a refused zip in either.
    code, _out, err = run("importcontent", "disk", apps_on_drive.channel_id, str(drive))
    assert code == 4
    assert_only_good_apps_kept(err)


@pytest.mark.server
def test_a_peer_import_skips_and_reports_the_zips_that_fail(apps_on_drive, drive,
                                                            second_server):
    data = drive / "KOLIBRI_DATA" / "content"
    database = data / "databases" / f"{apps_on_drive.channel_id}.sqlite3"
    channel = {"id": apps_on_drive.channel_id, "name": "Counting",
               "version": apps_on_drive.version}
    second = second_server()
    with PeerWithDatabase(channel, data / "storage", database) as peer:
        code, out, err = run("importchannel", "network", apps_on_drive.channel_id, peer.url)
        assert code == 0, out + err
        code, out, err = run("importcontent", "network", apps_on_drive.channel_id, peer.url)
    assert code == 4, out + err
    assert_only_good_apps_kept(err)
    assert temp_entries(second) == []
