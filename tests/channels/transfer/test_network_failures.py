"""Peer failures against a stand-in peer on 127.0.0.1: files missing or damaged there are
skipped and listed (exit 4), a stale partial download is fetched again whole, and a full disk
while a database is copied in exits 5 with nothing left in the temp area."""

from __future__ import annotations

import errno
import hashlib
import shutil

import pytest

from channels.models import ContentImport
from channels.transfer import disk as disk_module
from channels.transfer.network import import_content_from_network
from storage.models import StoredFile
from tests.channels.transfer.conftest import temp_entries
from tests.channels.transfer.helpers import run
from tests.channels.transfer.stub_peer import StubPeer

pytestmark = pytest.mark.django_db


@pytest.fixture
def peer_storage(exported, tmp_path):
    """A copy of the first server's files, served by the stand-in peer."""
    folder = tmp_path / "peer-storage"
    shutil.copytree(exported.source_content / "storage", folder)
    return folder


def _channel(exported) -> dict:
    return {"id": exported.channel_id, "name": "Maths", "version": exported.build.version}


def test_files_missing_or_damaged_on_the_peer_are_listed_and_the_rest_imported(
        exported, second_server, peer_storage):
    files = sorted(path for path in peer_storage.rglob("*.pdf"))
    files[0].unlink()
    files[1].write_bytes(files[1].read_bytes()[::-1])
    second = second_server()
    run("importchannel", "disk", exported.channel_id, str(exported.drive))
    with StubPeer(_channel(exported), peer_storage, hold=None) as peer:
        code, out, err = run("importcontent", "network", exported.channel_id, peer.url)
    assert code == 4 and "Imported 4 file(s)" in out and "2 failed" in out
    assert f"{files[0].name}: not on the peer" in err
    assert files[1].name in err and "not the expected" in err
    assert StoredFile.objects.count() == 4 and temp_entries(second) == []
    assert ContentImport.objects.get().state == ContentImport.State.INCOMPLETE


def test_a_stale_partial_download_is_fetched_again_whole(exported, second_server,
                                                         peer_storage):
    second = second_server()
    run("importchannel", "disk", exported.channel_id, str(exported.drive))
    victim = sorted(peer_storage.rglob("*.pdf"))[0]
    stale = second / "tmp" / f"network-{victim.name}.part"
    stale.write_bytes(b"garbage")  # the start of other bytes (another build, a bad link)
    with StubPeer(_channel(exported), peer_storage, hold=None) as peer:
        result = import_content_from_network(exported.channel_id, peer.url)
        relpath = victim.relative_to(peer_storage).as_posix()
        asked = [request for request in peer.requests if request[0].endswith(relpath)]
    assert asked == [(f"/content/storage/{relpath}", "bytes=7-", 206),
                     (f"/content/storage/{relpath}", None, 200)]
    assert result.copied == 6 and not result.failures
    stored = second / "storage" / relpath
    assert hashlib.md5(stored.read_bytes()).hexdigest() == victim.name.split(".")[0]
    assert temp_entries(second) == []


def test_a_full_disk_while_copying_a_database_in_exits_5_and_leaves_no_temp(
        exported, second_server, monkeypatch):
    second = second_server()
    real_open = open

    class Full:
        def __init__(self, handle) -> None:
            self.handle = handle

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc_info: object) -> None:
            self.handle.close()

    def full_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return Full(handle) if mode == "wb" else handle

    monkeypatch.setattr(disk_module, "open", full_open, raising=False)
    code, _out, err = run("importchannel", "disk", exported.channel_id, str(exported.drive))
    assert code == 5 and "is full" in err
    assert temp_entries(second) == [] and not list((second / "databases").iterdir())
