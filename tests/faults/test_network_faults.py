"""Imports from a peer server (a real one on 127.0.0.1) meeting a full (ENOSPC) or failing
(EIO) disk on this server, injected by tests/faults/inject: exit 5 or 6 with a message saying
so, no download left in the temp area, verified files kept, the channel invisible until its
import finished, `checkinvariants` clean, and a re-run without the fault completes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.homes import FaultHome

pytestmark = pytest.mark.server

FULL = "is full; free some space and run again"
WRITE_FAILS = "cannot write to"


@pytest.fixture(scope="module")
def peer(prepared) -> Iterator[str]:
    """The URL of a server that serves the demo channel and its files."""
    server = prepared["source"]
    server.start()
    yield server.url
    server.stop()


def channel_rows(home: FaultHome, channel_id: str) -> list:
    return home.rows(f"SELECT version, state FROM channels_channel WHERE id = '{channel_id}'")


@pytest.mark.parametrize("op, error, exit_code, says", [
    ("write", "ENOSPC", 5, FULL),
    ("fsync", "EIO", 6, WRITE_FAILS),
])
def test_an_importchannel_network_meeting(op, error, exit_code, says, prepared, peer,
                                          copy_home):
    channel_id = prepared["channel_id"]
    home = copy_home("blank")
    failed = home.faulted(f"{op}:1:{error}:{home.content_dir}/tmp/", "importchannel",
                          "network", channel_id, peer)
    assert failed.returncode == exit_code and says in failed.stderr, failed.stderr
    assert home.temp_leftovers() == []
    assert channel_rows(home, channel_id) == []
    home.check()

    home.run("importchannel", "network", channel_id, peer)
    assert channel_rows(home, channel_id) == [(1, "available")]


@pytest.mark.parametrize("error, exit_code, says", [
    ("ENOSPC", 5, FULL),
    ("EIO", 6, WRITE_FAILS),
])
def test_an_importcontent_network_meeting(error, exit_code, says, prepared, peer, copy_home):
    channel_id = prepared["channel_id"]
    home = copy_home("channel_only")
    # Two writes a file (its download, then its copy into the store): the 9th is the 5th's.
    failed = home.faulted(f"write:9:{error}:{home.content_dir}/tmp/", "importcontent",
                          "network", channel_id, peer)
    assert failed.returncode == exit_code and says in failed.stderr, failed.stderr
    kept = home.stored()
    assert 2 <= len(kept) < prepared["files"], kept
    assert home.temp_leftovers() == []
    assert home.rows("SELECT state FROM channels_contentimport") == [("interrupted",)]
    home.check()

    home.run("importcontent", "network", channel_id, peer)
    assert home.rows("SELECT state, files_done FROM channels_contentimport") == [
        ("done", prepared["files"])]
    assert set(kept) <= set(home.stored()) and len(home.stored()) == prepared["files"]
    home.run("checkinvariants", *(["--full"] if error == "ENOSPC" else []))
