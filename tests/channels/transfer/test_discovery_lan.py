"""Two servers find each other on a real (virtual) LAN: two network namespaces joined by a veth
pair, one `start_discovery` in each, as `kolibri-like start` runs it. Loopback alone does not
carry multicast, hence the namespaces; creating them needs root (CAP_NET_ADMIN).

Each side runs PEER_SCRIPT, which prints one JSON line (the peers it found, or [] at its
deadline) and keeps announcing until the test closes its standard input. The last test runs
the real `kolibri-like start` in one namespace and reads its import page.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.network

FIND_TIMEOUT_SECONDS = 20
# Python and Django start-up in each namespace, on a busy two-core machine.
REPORT_SLACK = 30
# Long enough: with announcing on, the other side is found in about a second.
QUIET_LISTEN_SECONDS = 8
REPO_ROOT = Path(__file__).resolve().parents[3]
PEER_SCRIPT = """
import json, sys, time
from channels.transfer.discovery import current_snapshot, start_discovery, stop_discovery

def report():
    snapshot = current_snapshot()
    print(json.dumps({"state": snapshot.state, "announced_as": snapshot.announced_as,
                      "addresses": snapshot.addresses,
                      "peers": [{"name": peer.name, "addresses": peer.addresses,
                                 "port": peer.port, "server_id": peer.server_id,
                                 "version": peer.version, "path": peer.path,
                                 "urls": peer.urls}
                                for peer in snapshot.peers]}), flush=True)

discovery = start_discovery(host="0.0.0.0", port=int(sys.argv[1]),
                            recheck_seconds=float(sys.argv[3]))
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline and not current_snapshot().peers:
    time.sleep(0.1)
report()
# Go on announcing until the test closes stdin. A line "gone?" means "wait until no peer is
# listed any more (or the same deadline again), then report"; "now?" means report at once.
for line in sys.stdin:
    deadline = time.monotonic() + float(sys.argv[2])
    while line.strip() == "gone?" and time.monotonic() < deadline and current_snapshot().peers:
        time.sleep(0.1)
    report()
stop_discovery(discovery)
"""


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)


@pytest.fixture
def namespace_pair() -> Iterator[list[tuple[str, str, str]]]:
    """[(namespace, address, link), (...)] joined by a veth pair; removed afterwards
    (deleting a namespace deletes its end of the pair, and with it the other end)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to create network namespaces")
    tag = uuid.uuid4().hex[:6]
    # Interface names hold at most 15 characters.
    sides = [(f"kl-disc-a-{tag}", f"kla{tag}", "10.213.77.1"),
             (f"kl-disc-b-{tag}", f"klb{tag}", "10.213.77.2")]
    created: list[str] = []
    try:
        for namespace, _link, _address in sides:
            run("ip", "netns", "add", namespace)
            created.append(namespace)
        run("ip", "link", "add", sides[0][1], "type", "veth", "peer", "name", sides[1][1])
        for namespace, link, address in sides:
            run("ip", "link", "set", link, "netns", namespace)
            run("ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", link)
            run("ip", "-n", namespace, "link", "set", link, "up")
            run("ip", "-n", namespace, "link", "set", "lo", "up")
        yield [(namespace, address, link) for namespace, link, address in sides]
    finally:
        for namespace in created:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=30)


def start_peer(namespace: str, home: Path, port: int, *, enabled: bool = True,
               server_name: str = "", seconds: float = FIND_TIMEOUT_SECONDS,
               recheck_seconds: float = 30.0) -> subprocess.Popen[str]:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DJANGO_SETTINGS_MODULE",)}
    environment.update({
        "DJANGO_SETTINGS_MODULE": "kolibri_like.settings",
        "KOLIBRI_LIKE_HOME": str(home),
        "SERVER_NAME": server_name,
        "ZEROCONF_ENABLED": "1" if enabled else "0",
        "PYTHONPATH": str(REPO_ROOT),
    })
    return subprocess.Popen(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", PEER_SCRIPT, str(port),
         str(seconds), str(recheck_seconds)],
        env=environment, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def report_of(process: subprocess.Popen[str]) -> dict:
    """The peer's one JSON line; it comes within FIND_TIMEOUT_SECONDS plus start-up time, and
    a peer that hangs fails the test instead of stalling it."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], FIND_TIMEOUT_SECONDS + REPORT_SLACK)
    assert ready, f"the peer printed nothing within {FIND_TIMEOUT_SECONDS + REPORT_SLACK} s"
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        raise AssertionError(f"the peer printed nothing: {process.stderr.read()}")
    return json.loads(line)


def ask(process: subprocess.Popen[str], question: str) -> dict:
    assert process.stdin is not None
    process.stdin.write(question + "\n")
    process.stdin.flush()
    return report_of(process)


def finish(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_two_servers_on_a_lan_find_each_other(namespace_pair, tmp_path):
    (namespace_a, address_a, _link_a), (namespace_b, address_b, _link_b) = namespace_pair
    processes = [start_peer(namespace_a, tmp_path / "a", 8101, server_name="Room 4 server"),
                 start_peer(namespace_b, tmp_path / "b", 8202, server_name="Library")]
    try:
        reports = [report_of(process) for process in processes]
    finally:
        finish(processes)
    seen_by_a, seen_by_b = reports
    assert (seen_by_a["state"], seen_by_a["announced_as"]) == ("running", "Room 4 server")
    assert seen_by_a["addresses"] == [address_a]
    id_of_a = (tmp_path / "a" / "server-id").read_text().strip()
    id_of_b = (tmp_path / "b" / "server-id").read_text().strip()
    [peer_of_a] = seen_by_a["peers"]  # itself is not listed, though multicast loops back
    assert peer_of_a["name"] == "Library"
    assert (peer_of_a["addresses"], peer_of_a["port"]) == ([address_b], 8202)
    assert (peer_of_a["server_id"], peer_of_a["path"]) == (id_of_b, "/")
    assert peer_of_a["version"]
    [peer_of_b] = seen_by_b["peers"]
    assert peer_of_b["name"] == "Room 4 server"
    assert (peer_of_b["addresses"], peer_of_b["port"]) == ([address_a], 8101)
    assert peer_of_b["server_id"] == id_of_a


def test_a_server_with_zeroconf_disabled_is_not_found(namespace_pair, tmp_path):
    (namespace_a, _address_a, _link_a), (namespace_b, _address_b, _link_b) = namespace_pair
    processes = [start_peer(namespace_a, tmp_path / "a", 8101, enabled=False,
                            server_name="Quiet server", seconds=QUIET_LISTEN_SECONDS),
                 start_peer(namespace_b, tmp_path / "b", 8202, server_name="Library",
                            seconds=QUIET_LISTEN_SECONDS)]
    try:
        quiet, listening = [report_of(process) for process in processes]
    finally:
        finish(processes)
    assert quiet == {"state": "off", "announced_as": "", "addresses": [], "peers": []}
    # B looked for QUIET_LISTEN_SECONDS; in the same set-up the test above finds a peer in ~1 s.
    assert listening["state"] == "running"
    assert listening["peers"] == []
    assert not (tmp_path / "a" / "server-id").exists()


def test_two_servers_with_one_name_end_up_with_two(namespace_pair, tmp_path):
    """Imaged school boxes often share a host name, the default SERVER_NAME, and start together
    after a power cut: both may take the name before either hears the other."""
    (namespace_a, address_a, _link_a), (namespace_b, address_b, _link_b) = namespace_pair
    processes = [start_peer(namespace, tmp_path / name, port, server_name="School server",
                            recheck_seconds=1)
                 for namespace, name, port in ((namespace_a, "a", 8101), (namespace_b, "b", 8202))]
    try:
        reports = [report_of(process) for process in processes]
        deadline = time.monotonic() + FIND_TIMEOUT_SECONDS
        while not settled(reports) and time.monotonic() < deadline:
            time.sleep(0.5)
            reports = [ask(process, "now?") for process in processes]
    finally:
        finish(processes)
    seen_by_a, seen_by_b = reports
    assert {seen_by_a["announced_as"], seen_by_b["announced_as"]} == {
        "School server", "School server (2)"}, reports
    assert [(peer["name"], peer["addresses"]) for peer in seen_by_a["peers"]] == [
        (seen_by_b["announced_as"], [address_b])], reports
    assert [(peer["name"], peer["addresses"]) for peer in seen_by_b["peers"]] == [
        (seen_by_a["announced_as"], [address_a])], reports


def settled(reports: list[dict]) -> bool:
    """Each side announces its own name and lists the other under that name."""
    first, second = reports
    return (first["announced_as"] != second["announced_as"]
            and [peer["name"] for peer in first["peers"]] == [second["announced_as"]]
            and [peer["name"] for peer in second["peers"]] == [first["announced_as"]])


def wait_for_file(path: Path) -> bool:
    deadline = time.monotonic() + REPORT_SLACK
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.exists()


def test_a_server_that_gets_its_address_after_start_is_found(namespace_pair, tmp_path):
    """A school box often boots before its Wi-Fi or DHCP lease: the address arrives later."""
    (namespace_a, address_a, link_a), (namespace_b, address_b, _link_b) = namespace_pair
    run("ip", "-n", namespace_a, "addr", "del", f"{address_a}/24", "dev", link_a)
    processes = [start_peer(namespace_a, tmp_path / "a", 8101, server_name="Late",
                            recheck_seconds=1),
                 start_peer(namespace_b, tmp_path / "b", 8202, server_name="Library")]
    try:
        # The server id is written just before the worker starts, which at once finds no
        # address; a moment later the address arrives, as a DHCP lease would.
        assert wait_for_file(tmp_path / "a" / "server-id"), processes[0].stderr
        time.sleep(1.5)
        run("ip", "-n", namespace_a, "addr", "add", f"{address_a}/24", "dev", link_a)
        seen_by_a, seen_by_b = [report_of(process) for process in processes]
    finally:
        finish(processes)
    assert [(peer["name"], peer["addresses"]) for peer in seen_by_a["peers"]] == [
        ("Library", [address_b])]
    assert [(peer["name"], peer["addresses"]) for peer in seen_by_b["peers"]] == [
        ("Late", [address_a])]


IMPORT_PAGE_SCRIPT = """
import re, sys, time
import requests

base_url, wanted, seconds, authority = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
# verify on each call: requests lets REQUESTS_CA_BUNDLE override a session's verify. With
# --https the server's own certificate authority is trusted; plain http ignores it.
options = {"timeout": 10, "verify": authority}
session = requests.Session()
login_page = session.get(base_url + "/login/", **options)
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
session.post(base_url + "/login/", headers={"Referer": base_url + "/login/"}, data={
    "username": "admin", "password": "admin-pass", "csrfmiddlewaretoken": token}, **options)
deadline = time.monotonic() + seconds
while True:
    html = session.get(base_url + "/admin/import/", **options).text
    if wanted in html or time.monotonic() > deadline:
        break
    time.sleep(0.5)
print(html)
"""
SERVER_START_TIMEOUT_SECONDS = 120


def server_environment(home: Path, server_name: str) -> dict[str, str]:
    """A server of its own: SQLite in its home (a PostgreSQL or Redis of the test run is not
    reachable from inside a namespace), the first admin as tests/servers.py makes it."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")}
    environment.update({"KOLIBRI_LIKE_HOME": str(home), "CONTENT_DIR": str(home / "content"),
                        "ZEROCONF_ENABLED": "1", "SERVER_NAME": server_name,
                        "KOLIBRI_LIKE_ADMIN_USERNAME": "admin",
                        "KOLIBRI_LIKE_ADMIN_PASSWORD": "admin-pass",
                        "PYTHONUNBUFFERED": "1"})
    return environment


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_kolibri_like_start_announces_itself_lists_peers_and_says_goodbye(namespace_pair,
                                                                          tmp_path, scheme):
    (namespace_a, address_a, _link_a), (namespace_b, address_b, _link_b) = namespace_pair
    home = tmp_path / "server"
    home.mkdir()
    log_path = tmp_path / "server-output.log"
    kolibri_like = str(Path(sys.executable).with_name("kolibri-like"))
    with open(log_path, "wb") as log:
        # No --host: the default (every interface) is what announces the LAN address.
        server = subprocess.Popen(
            ["ip", "netns", "exec", namespace_a, kolibri_like, "start", "--port", "8303",
             "--no-consumer", *(["--https"] if scheme == "https" else [])],
            env=server_environment(home, "Room 4 server"), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    peers: list[subprocess.Popen[str]] = []
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while "serving at" not in log_path.read_text():
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        peers.append(start_peer(namespace_b, tmp_path / "b", 8202, server_name="Library"))
        seen_by_b = report_of(peers[0])
        assert [(peer["name"], peer["addresses"], peer["port"], peer["urls"])
                for peer in seen_by_b["peers"]] == [
            ("Room 4 server", [address_a], 8303, [f"{scheme}://{address_a}:8303"])]

        page = subprocess.run(
            ["ip", "netns", "exec", namespace_a, sys.executable, "-c", IMPORT_PAGE_SCRIPT,
             f"{scheme}://127.0.0.1:8303", f"http://{address_b}:8202",
             str(FIND_TIMEOUT_SECONDS), str(home / "tls" / "ca.crt")],
            capture_output=True, text=True, timeout=FIND_TIMEOUT_SECONDS + REPORT_SLACK)
        assert page.returncode == 0, page.stderr
        section = re.search(r"<section[^>]*data-lan-servers.*?</section>", page.stdout,
                            flags=re.S)
        assert section, page.stdout[:2000]
        assert "Library" in section.group(0)
        assert f'name="from" value="http://{address_b}:8202"' in section.group(0)

        # SIGTERM: the server unregisters on the way out, so B drops it at once instead of
        # when the records expire (RECORD_TTL_SECONDS, longer than this wait).
        os.killpg(server.pid, signal.SIGTERM)
        assert server.wait(timeout=30) == 0, log_path.read_text()
        assert ask(peers[0], "gone?")["peers"] == []
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        finish(peers)
