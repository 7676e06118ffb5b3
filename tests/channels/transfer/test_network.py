"""Import from a peer server on the LAN: two real servers on 127.0.0.1, a download resumed with
a Range request, and the errors for unknown channels, unreachable peers and bad addresses."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path

import pytest

from channels.models import Channel
from channels.transfer import peer_http
from channels.transfer.network import (
    import_channel_from_network,
    import_content_from_network,
    list_peer_channels,
)
from storage.models import StoredFile
from tests.channels.transfer.helpers import run
from tests.servers import ServerProcess, free_port

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """Server A: a demo channel of 40 nodes, started for real."""
    server = ServerProcess(tmp_path_factory.mktemp("peer-a") / "home")
    server.run_command("migrate", "--no-input", "-v", "0")
    generated = server.run_command("generate_demo_channel", "--nodes", "40", "--seed", "5")
    channel_id = generated.stdout.strip().splitlines()[-1]
    server.start()
    try:
        yield server, channel_id
    finally:
        server.stop()
        server.drop_database()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=20) as response:
        return response.read()


def _nodes(server: ServerProcess, channel_id: str) -> list[dict]:
    page = json.loads(_get(f"{server.url}/api/content/{channel_id}/contentnode/?page_size=1000"))
    assert page["next"] is None
    return page["results"]


def test_a_second_server_imports_over_the_lan_and_serves_the_same_nodes_and_bytes(peer,
                                                                                 tmp_path):
    server_a, channel_id = peer
    server_b = ServerProcess(tmp_path / "b")
    try:
        server_b.run_command("migrate", "--no-input", "-v", "0")
        listing = json.loads(server_b.run_command(
            "listchannels", "network", server_a.url, "--json").stdout)
        offered = next(item for item in listing if item["id"] == channel_id)
        assert (offered["installed_version"], offered["is_newer"]) == (None, True)
        installed = server_b.run_command("importchannel", "network", channel_id, server_a.url)
        assert "Installed channel" in installed.stdout
        imported = server_b.run_command("importcontent", "network", channel_id, server_a.url)
        assert "Imported 52 file(s)" in imported.stdout
        again = server_b.run_command("importchannel", "network", channel_id, server_a.url)
        assert "already installed" in again.stdout
        server_b.start()
        nodes_a, nodes_b = _nodes(server_a, channel_id), _nodes(server_b, channel_id)
        assert len(nodes_b) == 40 and nodes_b == nodes_a
        assert all(node["available"] for node in nodes_b)
        urls = {item["url"] for node in nodes_b for item in node["files"]}
        assert len(urls) == 52
        for url in sorted(urls):
            assert _get(server_b.url + url) == _get(server_a.url + url)
        assert not list((server_b.content_dir / "tmp").iterdir())
    finally:
        server_b.stop()
        server_b.drop_database()


@pytest.mark.django_db
def test_an_interrupted_download_resumes_with_a_range_request(peer, monkeypatch, settings):
    server_a, channel_id = peer
    import_channel_from_network(channel_id, server_a.url)
    monkeypatch.setattr(peer_http, "CHUNK_SIZE", 4096)
    seen: list[tuple[str, str | None, int]] = []
    real_open = peer_http._open

    def recording_open(url, label, headers=None):
        response = real_open(url, label, headers)
        seen.append((url, (headers or {}).get("Range"), response.status))
        return response

    monkeypatch.setattr(peer_http, "_open", recording_open)

    class StopMidFile:
        """Ctrl-C after a whole 4 KiB chunk (not a file's short last one) past 10,000 bytes."""

        last = 0

        def update(self, stage: str, done: int, total: int) -> None:
            if stage != "bytes":
                return
            whole_chunk, self.last = done - self.last == 4096, done
            if done >= 10_000 and whole_chunk:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_content_from_network(channel_id, server_a.url, progress=StopMidFile())
    [part] = list(Path(settings.CONTENT_TEMP_DIR).glob("network-*.part"))
    kept = part.stat().st_size
    name = part.name.removeprefix("network-").removesuffix(".part")
    assert kept > 0
    seen.clear()
    result = import_content_from_network(channel_id, server_a.url)
    resumed = [item for item in seen if item[0].endswith("/" + name)]
    assert resumed == [(resumed[0][0], f"bytes={kept}-", 206)]
    assert result.bytes_copied == result.bytes_total - kept
    assert not list(Path(settings.CONTENT_TEMP_DIR).iterdir())
    checksum, extension = name.split(".")
    stored = Path(settings.CONTENT_STORAGE_DIR) / checksum[0] / checksum[1] / name
    assert hashlib.md5(stored.read_bytes()).hexdigest() == checksum
    assert StoredFile.objects.count() == 52


@pytest.mark.django_db
def test_peer_errors_have_their_exit_codes(peer):
    server_a, channel_id = peer
    code, _out, err = run("importchannel", "network", "f" * 32, server_a.url)
    assert code == 3 and "is not on the server at" in err
    nobody = f"http://127.0.0.1:{free_port()}"
    code, _out, err = run("importchannel", "network", channel_id, nobody)
    assert code == 6 and "cannot reach" in err
    assert run("listchannels", "network", nobody)[0] == 6
    assert run("importcontent", "network", channel_id, "ftp://127.0.0.1/")[0] == 2
    code, _out, err = run("importcontent", "network", channel_id, server_a.url)
    assert code == 3 and "importchannel network" in err
    assert not Channel.objects.exists()


@pytest.mark.django_db
def test_listchannels_network_says_what_is_newer(peer):
    server_a, channel_id = peer
    [offered] = [item for item in list_peer_channels(server_a.url + "/") if item.id == channel_id]
    assert (offered.version, offered.installed_version, offered.is_newer) == (1, None, True)
    assert offered.node_count == 40
    import_channel_from_network(channel_id, server_a.url)
    code, out, _err = run("listchannels", "network", server_a.url)
    assert code == 0 and "Demo: Science" in out and "installed" in out
