"""LAN discovery without a network: what we announce, what we accept from the network, the
server id, and that discovery never stops or slows the server (off, failing, stopping).
The real multicast path is in test_discovery_lan.py."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from zeroconf import NonUniqueNameException, ServiceInfo, ServiceStateChange

from channels.transfer import discovery, discovery_worker
from channels.transfer.discovery import (
    MAX_PEERS,
    SERVICE_SUBTYPE,
    Announcement,
    LanDiscovery,
    addresses_for_host,
    build_service_info,
    instance_name,
    load_server_id,
    txt_values,
    peer_from_service_info,
    start_discovery,
    usable_ipv4,
)

OUR_ID = "0" * 32
PEER_ID = "a" * 32
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
WAIT_SECONDS = 5.0


def wait_until(condition, seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def announcement(name: str = "Room 4 server", server_id: str = PEER_ID,
                 port: int = 8000) -> Announcement:
    return Announcement(server_name=name, port=port, server_id=server_id, version="0.1.0")


def test_it_announces_our_subtype_with_name_port_and_txt_records():
    info = build_service_info(announcement(), ["192.168.1.10"])
    assert info.type == "_kolibri-like._sub._http._tcp.local."
    assert info.name == "Room 4 server._http._tcp.local."
    assert info.port == 8000
    assert info.parsed_addresses() == ["192.168.1.10"]
    assert info.decoded_properties == {"txtvers": "1", "version": "0.1.0",
                                       "server_id": PEER_ID, "path": "/", "scheme": "http"}
    # Our own host name, so that it never competes with the machine's (avahi's) records.
    assert info.server == f"kolibri-like-{PEER_ID[:12]}.local."


@pytest.mark.parametrize(("server_name", "expected"), [
    ("Room 4 server", "Room 4 server"),
    ("school.lan", "school-lan"),  # a dot would split the DNS label
    ("  tabs\tand\nnew lines  ", "tabs and new lines"),
    ("bell\x07", "bell"),
    ("", "kolibri-like"),
    ("...", "---"),
    ("é" * 40, "é" * 31),  # 63 bytes at most, never half a character
])
def test_it_makes_server_name_a_valid_instance_label(server_name, expected):
    assert instance_name(server_name) == expected
    assert len(instance_name(server_name).encode()) <= 63


def test_a_taken_name_gets_a_number_that_fits_the_label():
    assert instance_name("Room 4", 2) == "Room 4 (2)"
    assert instance_name("x" * 80, 12) == "x" * 58 + " (12)"


def test_txt_records_are_read_from_their_wire_form():
    assert txt_values(b"\x09version=1\x0dserver_id=abc\x03bad\x05path=") == {
        "version": "1", "server_id": "abc", "path": ""}
    assert txt_values(b"\x0cserver_id=\xff\xfe") == {}
    assert txt_values(b"\x20short") == {}  # a length past the end


def test_what_we_announce_reads_back_as_a_peer():
    info = build_service_info(announcement(), ["192.168.1.10", "10.0.0.4"])
    peer = peer_from_service_info(info, NOW)
    assert peer is not None
    assert (peer.name, peer.addresses, peer.port) == ("Room 4 server", ("10.0.0.4", "192.168.1.10"),
                                                      8000)
    assert (peer.server_id, peer.version, peer.path, peer.last_seen) == (PEER_ID, "0.1.0", "/",
                                                                         NOW)
    assert peer.urls == ("http://10.0.0.4:8000", "http://192.168.1.10:8000")


def test_a_peer_serving_https_gets_https_addresses():
    https = Announcement(server_name="Secure", port=8443, server_id=PEER_ID, version="0.1.0",
                         scheme="https")
    peer = peer_from_service_info(build_service_info(https, ["192.168.1.10"]), NOW)
    assert peer is not None and peer.urls == ("https://192.168.1.10:8443",)
    odd = Announcement(server_name="Odd", port=8000, server_id=PEER_ID, version="0.1.0",
                       scheme="javascript")
    peer = peer_from_service_info(build_service_info(odd, ["192.168.1.10"]), NOW)
    assert peer is not None and peer.urls == ("http://192.168.1.10:8000",)


def test_a_peer_without_a_reachable_address_is_not_listed():
    loopback_only = build_service_info(announcement(), ["127.0.0.1"])
    assert peer_from_service_info(loopback_only, NOW) is None


def test_untrusted_txt_values_are_checked_and_cut():
    # A TXT string holds at most 255 bytes, so 240 is about the longest a peer can send.
    info = ServiceInfo(SERVICE_SUBTYPE, "Odd._http._tcp.local.", port=8000,
                       properties={"server_id": "../../etc", "version": "9" * 240},
                       server="odd.local.", parsed_addresses=["192.168.1.12"])
    peer = peer_from_service_info(info, NOW)
    assert peer is not None
    assert peer.server_id == "" and len(peer.version) == 200 and peer.path == "/"


def test_addresses_are_the_non_loopback_ipv4_ones():
    assert usable_ipv4(["127.0.0.1", "0.0.0.0", "::1", "fe80::1", "localhost", "10.0.0.7",
                        "192.168.1.20", "10.0.0.7"]) == ["10.0.0.7", "192.168.1.20"]
    assert addresses_for_host("192.168.1.20")() == ["192.168.1.20"]
    assert addresses_for_host("127.0.0.1")() == []


def test_server_id_is_made_once_and_kept(tmp_path):
    first = load_server_id(tmp_path)
    assert len(first) == 32 and int(first, 16) >= 0
    assert load_server_id(tmp_path) == first
    (tmp_path / "server-id").write_text("not an id\n")
    replaced = load_server_id(tmp_path)
    assert replaced != first and (tmp_path / "server-id").read_text() == replaced + "\n"


def test_zeroconf_disabled_announces_nothing(settings, tmp_path, monkeypatch):
    settings.ZEROCONF_ENABLED = False
    settings.HOME = tmp_path
    opened = []
    monkeypatch.setattr(discovery_worker, "_open_zeroconf",
                        lambda addresses: opened.append(addresses))
    assert start_discovery("0.0.0.0", 8000, addresses=lambda: ["192.168.1.10"]) is None
    time.sleep(0.2)  # long enough for a worker thread, had one been started, to open sockets
    assert opened == []
    assert not (tmp_path / "server-id").exists()
    assert discovery.current_snapshot().state == "off"


class FakeZeroconf:
    """Answers get_service_info like zeroconf's cache would."""

    def __init__(self, infos: dict[str, ServiceInfo]) -> None:
        self.infos = infos

    def get_service_info(self, service_type: str, name: str, timeout: int = 3000):
        return self.infos.get(name)


def test_browser_events_add_and_remove_peers_but_never_ourselves():
    ours = build_service_info(announcement("Us", server_id=OUR_ID), ["192.168.1.2"])
    theirs = build_service_info(announcement("Them"), ["192.168.1.3"])
    zeroconf = FakeZeroconf({ours.name: ours, theirs.name: theirs})
    lan = LanDiscovery(announcement("Us", server_id=OUR_ID), lambda: [])
    lan._on_change(zeroconf, SERVICE_SUBTYPE, ours.name, ServiceStateChange.Added)
    lan._on_change(zeroconf, SERVICE_SUBTYPE, theirs.name, ServiceStateChange.Added)
    assert [peer.name for peer in lan.peers()] == ["Them"]
    lan._on_change(zeroconf, SERVICE_SUBTYPE, theirs.name, ServiceStateChange.Removed)
    assert lan.peers() == ()


def test_a_flood_of_announcements_is_capped():
    infos = {}
    for index in range(MAX_PEERS + 10):
        info = build_service_info(announcement(f"Fake {index}", server_id=f"{index:032x}"),
                                  [f"10.9.{index // 250}.{index % 250 + 1}"])
        infos[info.name] = info
    zeroconf = FakeZeroconf(infos)
    lan = LanDiscovery(announcement("Us", server_id=OUR_ID), lambda: [])
    for name in infos:
        lan._on_change(zeroconf, SERVICE_SUBTYPE, name, ServiceStateChange.Added)
    assert len(lan.peers()) == MAX_PEERS


def test_multicast_failure_is_reported_retried_and_never_blocks(caplog):
    attempts: list[list[str]] = []
    opened_twice = threading.Event()

    def no_multicast(addresses: list[str]):
        attempts.append(addresses)
        if len(attempts) >= 2:
            opened_twice.set()
        raise OSError(19, "No such device")

    lan = LanDiscovery(announcement(), lambda: ["192.168.1.10"], recheck_seconds=0.05,
                       zeroconf_factory=no_multicast)
    started = time.monotonic()
    lan.start()
    assert time.monotonic() - started < 0.5  # the caller (server start) does not wait
    try:
        assert wait_until(lambda: lan.snapshot.state == "failed")
        assert "No such device" in lan.snapshot.problem
        assert opened_twice.wait(WAIT_SECONDS), "a failed start is tried again"
    finally:
        lan.stop(timeout=WAIT_SECONDS)
    assert lan.snapshot.state == "stopped"
    # Logged once per cause, not at every retry.
    assert sum("No such device" in record.getMessage() for record in caplog.records) == 1


def test_no_network_address_is_a_state_not_an_error():
    opened: list[list[str]] = []
    lan = LanDiscovery(announcement(), lambda: [], recheck_seconds=0.05,
                       zeroconf_factory=lambda addresses: opened.append(addresses))
    lan.start()
    try:
        assert wait_until(lambda: lan.snapshot.state == "no-address")
    finally:
        lan.stop(timeout=WAIT_SECONDS)
    assert opened == []


class TakenNamesZeroconf:
    """Probing finds the first `taken` names already announced on the LAN."""

    def __init__(self, taken: int) -> None:
        self.taken = taken
        self.registered: list[str] = []

    def register_service(self, info: ServiceInfo, allow_name_change: bool = False) -> None:
        assert not allow_name_change  # zeroconf's renaming garbles subtype names
        if self.taken:
            self.taken -= 1
            raise NonUniqueNameException
        self.registered.append(info.name)


def test_a_name_taken_at_probing_moves_to_the_next_number():
    lan = LanDiscovery(announcement("Room 4"), lambda: [])
    zeroconf = TakenNamesZeroconf(taken=2)
    info = lan._register(zeroconf, ["192.168.1.10"])
    assert zeroconf.registered == [info.name] == ["Room 4 (3)._http._tcp.local."]


def test_when_every_name_is_taken_the_admin_is_told_to_pick_another():
    lan = LanDiscovery(announcement("Room 4"), lambda: [])
    with pytest.raises(discovery.NameTakenError, match="SERVER_NAME"):
        lan._register(TakenNamesZeroconf(taken=1000), ["192.168.1.10"])


class SharedNameZeroconf:
    """The mDNS cache after two servers took one name at the same moment: both TXT records."""

    def __init__(self, name: str, server_ids: list[str]) -> None:
        texts = [build_service_info(announcement(server_id=server_id), ["10.0.0.1"]).text
                 for server_id in server_ids]
        self.cache = self
        self.records = {name.lower(): texts}

    def get_all_by_details(self, name: str, type_: int, class_: int) -> list:
        assert (type_, class_) == (16, 1)  # TXT, IN
        return [type("Record", (), {"text": text})() for text in self.records.get(name.lower(), [])]


@pytest.mark.parametrize(("other_id", "moves"), [("1" * 32, True), ("f" * 32, False)])
def test_of_two_servers_sharing_a_name_the_greater_id_moves(other_id, moves):
    ours = "8" * 32
    lan = LanDiscovery(announcement("School server", server_id=ours), lambda: [])
    lan._info = build_service_info(announcement("School server", server_id=ours), ["10.0.0.1"])
    lan._zeroconf = SharedNameZeroconf(lan._info.name, [ours, other_id])
    lan._bound = ["10.0.0.1"]
    lan._check_name_conflict()
    assert (lan._name_number, lan._bound) == ((2, None) if moves else (1, ["10.0.0.1"]))
