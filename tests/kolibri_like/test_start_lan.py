"""`kolibri-like start` as learners on the LAN meet it: bound to every interface by default, the
addresses to type printed at start, and the machine's own addresses accepted as Host."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from kolibri_like.server import announce_addresses, lan_addresses, parse_start_arguments
from tests.servers import KOLIBRI_LIKE, ServerProcess, free_port

START_TIMEOUT_SECONDS = 90


def test_start_binds_every_interface_on_port_8000_by_default():
    arguments = parse_start_arguments([])
    assert (arguments.host, arguments.port) == ("0.0.0.0", 8000)


def test_lan_addresses_leave_out_loopback_and_names(monkeypatch):
    monkeypatch.setattr("kolibri_like.config.machine_hosts", lambda: [
        "127.0.0.1", "127.0.1.1", "[::1]", "[fe80::1]", "localhost", "classroom",
        "192.168.1.20", "10.0.0.7"])
    assert lan_addresses("0.0.0.0") == ["10.0.0.7", "192.168.1.20"]
    assert lan_addresses("192.168.1.20") == ["192.168.1.20"]
    assert lan_addresses("127.0.0.1") == []


def test_a_server_bound_to_loopback_says_learners_cannot_reach_it():
    lines: list[str] = []
    announce_addresses("127.0.0.1", 8080, lines.append)
    assert lines[0] == "kolibri-like is serving at http://127.0.0.1:8080/"
    assert "--host 0.0.0.0" in lines[1]


def machine_ipv4() -> str:
    addresses = lan_addresses("0.0.0.0")
    if not addresses:
        pytest.skip("this machine has no non-loopback IPv4 address to reach the server at")
    return addresses[0]


@pytest.fixture
def default_server(tmp_path: Path):
    """`kolibri-like start --port P` with no --host, as an admin types it (ServerProcess always
    binds 127.0.0.1, which would hide a wrong default)."""
    address = machine_ipv4()
    port = free_port()
    server = ServerProcess(tmp_path / "home")  # for its environment (and PostgreSQL database)
    environment = server.env
    log_path = tmp_path / "server-output.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([KOLIBRI_LIKE, "start", "--port", str(port), "--no-consumer"],
                                   env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        # The socket is bound before this line is printed; waiting for it (not for an answer on
        # the LAN address) makes a server bound to the wrong address fail at once below.
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while "serving at" not in log_path.read_text():
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        yield address, port, log_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        server.drop_database()


@pytest.mark.server
def test_learners_reach_the_default_server_at_the_printed_address(default_server):
    address, port, log_path = default_server
    output = log_path.read_text()
    assert f"http://{address}:{port}/" in output.split("Learners on the network open one of:")[1]

    # Connected to the LAN address (not loopback) with that address as Host: no ALLOWED_HOSTS set.
    answer = requests.get(f"http://{address}:{port}/api/channels/", timeout=10)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["Content-Type"].startswith("application/json")

    named = requests.get(f"http://{address}:{port}/api/channels/", timeout=10,
                         headers={"Host": f"{os.uname().nodename}:{port}"})
    assert named.status_code == 200

    # Anything else is still refused, so the two answers above mean something.
    foreign = requests.get(f"http://{address}:{port}/api/channels/", timeout=10,
                           headers={"Host": "attacker.example"})
    assert foreign.status_code == 400
