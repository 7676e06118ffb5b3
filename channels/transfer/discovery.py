"""Servers of ours on the LAN, found with mDNS/DNS-SD (python-zeroconf): announce and browse.

`kolibri-like start` announces this server as an `_http._tcp` service of our own subtype
(`_kolibri-like._sub._http._tcp.local.`), named `SERVER_NAME`, on this machine's non-loopback
IPv4 addresses, with TXT records `version`, `server_id`, `path` and `scheme`; it browses for
the same subtype and keeps the peers it sees. The import page reads `current_snapshot()`: an immutable
tuple replaced whole by the browsing threads, so a request never waits on the network.

    discovery = start_discovery(host="0.0.0.0", port=8000)   # None when ZEROCONF_ENABLED=0
    current_snapshot().peers  # (Peer(name="Room 4", addresses=("192.168.1.10",), ...), ...)
    discovery.stop()

mDNS is link-local multicast (224.0.0.251:5353, TTL 255 but never routed): nothing leaves the
LAN. A failure to open the multicast sockets is logged and retried; it never stops the server.

Why a subtype only: python-zeroconf answers a service under the one type it was registered
with (its issue #304), so we register the subtype, which is what our browsers ask for; generic
`_http._tcp` browsers (avahi-browse _http._tcp) do not list us.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SERVICE_TYPE = "_http._tcp.local."
SERVICE_SUBTYPE = "_kolibri-like._sub._http._tcp.local."
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
# Our records live two minutes (RFC 6762 suggests 75 for PTR): a server unplugged without saying
# goodbye drops off the import page after two minutes instead of an hour and a quarter. Browsers
# re-ask at 80% of that, a few small packets per minute on a classroom LAN.
RECORD_TTL_SECONDS = 120
# How often the worker looks again at the machine's addresses (Wi-Fi comes up after boot, a
# DHCP lease changes) and refreshes what it knows of each peer.
RECHECK_SECONDS = 30.0
RESOLVE_TIMEOUT_MS = 3000
STOP_TIMEOUT_SECONDS = 10.0
# A LAN has a handful of servers; a flood of fake announcements cannot grow memory past this.
MAX_PEERS = 64
MAX_TXT_VALUE_LENGTH = 200
# "Name (2)" ... "Name (20)": past that the network is odd enough for the admin to pick a name.
MAX_NAME_NUMBER = 20
DNS_LABEL_BYTES = 63
SERVER_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
SERVER_ID_FILE = "server-id"


class NameTakenError(Exception):
    """Every name we may take on this LAN is already announced by another server."""


@dataclass(frozen=True)
class Peer:
    """A server of ours seen on the LAN. `last_seen` is when its records were last confirmed
    (received, or still unexpired in the mDNS cache)."""

    name: str
    addresses: tuple[str, ...]
    port: int
    last_seen: datetime
    server_id: str = ""
    version: str = ""
    path: str = "/"
    scheme: str = "http"

    @property
    def urls(self) -> tuple[str, ...]:
        """What the import form takes, one per address: `http://192.168.1.10:8000`."""
        return tuple(f"{self.scheme}://{address}:{self.port}" for address in self.addresses)


@dataclass(frozen=True)
class DiscoverySnapshot:
    """What the import page shows. state: off (ZEROCONF_ENABLED=0), stopped (not running in
    this process, e.g. `manage.py runserver`), no-address (bound to loopback or no network
    yet), failed (multicast sockets could not be opened; `problem` says why), running."""

    state: str
    peers: tuple[Peer, ...] = ()
    problem: str = ""
    announced_as: str = ""
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Announcement:
    server_name: str
    port: int
    server_id: str
    version: str
    path: str = "/"
    # "https" for `start --https`: the TXT record tells peers which URL to put in the form.
    scheme: str = "http"
    properties: dict[str, str] = field(default_factory=dict)


def instance_name(server_name: str, number: int = 1) -> str:
    """SERVER_NAME as a DNS-SD instance label: dots would split it into labels, control
    characters are not allowed, and a label holds at most 63 bytes of UTF-8. Number 2 and up
    is for a name another server on the LAN already uses: "Room 4 (2)"."""
    cleaned = "".join(" " if char.isspace() else char for char in server_name
                      if char.isprintable() or char.isspace())
    cleaned = " ".join(cleaned.replace(".", "-").split()) or "kolibri-like"
    suffix = f" ({number})" if number > 1 else ""
    room = DNS_LABEL_BYTES - len(suffix.encode())
    return (cleaned.encode()[:room].decode(errors="ignore").strip() or "kolibri-like") + suffix


def build_service_info(announcement: Announcement, addresses: Sequence[str],
                       number: int = 1) -> Any:
    """The zeroconf ServiceInfo that announces us; the host name is our own (not the machine's)
    so that it never clashes with the A records avahi publishes for the machine."""
    from zeroconf import ServiceInfo

    return ServiceInfo(
        SERVICE_SUBTYPE,
        f"{instance_name(announcement.server_name, number)}.{SERVICE_TYPE}",
        port=announcement.port,
        properties={"txtvers": "1", "version": announcement.version,
                    "server_id": announcement.server_id, "path": announcement.path,
                    "scheme": announcement.scheme, **announcement.properties},
        server=f"kolibri-like-{announcement.server_id[:12]}.local.",
        parsed_addresses=list(addresses),
        host_ttl=RECORD_TTL_SECONDS,
        other_ttl=RECORD_TTL_SECONDS,
    )


def peer_from_service_info(info: Any, now: datetime) -> Peer | None:
    """A Peer from a resolved ServiceInfo; None when it has no IPv4 address or no usable port.
    Every field comes from the network, so each is checked and cut to size."""
    from zeroconf import IPVersion

    port = info.port
    if not isinstance(port, int) or not 0 < port < 65536:
        return None
    addresses = []
    for text in info.parsed_addresses(IPVersion.V4Only):
        try:
            address = ipaddress.IPv4Address(text)
        except ValueError:
            continue
        if not (address.is_loopback or address.is_unspecified or address.is_multicast):
            addresses.append(str(address))
    if not addresses:
        return None
    properties = info.decoded_properties or {}

    def text_property(key: str) -> str:
        value = properties.get(key)
        return value[:MAX_TXT_VALUE_LENGTH] if isinstance(value, str) else ""

    server_id = text_property("server_id")
    return Peer(name=shown_name(str(info.name))[:MAX_TXT_VALUE_LENGTH],
                addresses=tuple(sorted(set(addresses))), port=port, last_seen=now,
                server_id=server_id if SERVER_ID_PATTERN.fullmatch(server_id) else "",
                version=text_property("version"), path=text_property("path") or "/",
                scheme="https" if text_property("scheme") == "https" else "http")


def txt_values(raw: bytes) -> dict[str, str]:
    """A TXT record's rdata (length-prefixed "key=value" strings) as a dict; what does not
    decode is left out."""
    values: dict[str, str] = {}
    position = 0
    while position < len(raw):
        length = raw[position]
        item = raw[position + 1:position + 1 + length]
        position += 1 + length
        key, separator, value = item.partition(b"=")
        if separator:
            try:
                values.setdefault(key.decode("ascii").lower(), value.decode())
            except UnicodeDecodeError:
                continue
    return values


def shown_name(service_name: str) -> str:
    """"Room 4._http._tcp.local." -> "Room 4" (zeroconf's get_name() cuts the length of the
    registered type, which for a subtype is longer than the name's own suffix)."""
    suffix = "." + SERVICE_TYPE
    return service_name[:-len(suffix)] if service_name.endswith(suffix) else service_name


def interface_ipv4_addresses() -> list[str]:
    """Every network interface's IPv4 address (asked of the kernel through ifaddr, no packet
    sent), loopback left out: what learners and peers can reach."""
    from zeroconf import get_all_addresses

    return usable_ipv4(get_all_addresses())


def usable_ipv4(candidates: Sequence[str]) -> list[str]:
    found = set()
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:  # a host name
            continue
        if address.version == 4 and not (address.is_loopback or address.is_unspecified):
            found.add(address)
    return [str(address) for address in sorted(found)]


def addresses_for_host(host: str) -> Callable[[], list[str]]:
    """What to announce for `start --host H`: every interface's address when bound to all,
    else the one bound to (nothing for loopback: no peer could reach it)."""
    if host in WILDCARD_HOSTS:
        return interface_ipv4_addresses
    fixed = usable_ipv4([host])
    return lambda: list(fixed)


def load_server_id(home: Path) -> str:
    """This server's id (32 lowercase hex), made on first use and kept in `home/server-id`, so
    a server does not list itself and peers keep one identity across restarts."""
    path = home / SERVER_ID_FILE
    try:
        stored = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        stored = ""
    if SERVER_ID_PATTERN.fullmatch(stored):
        return stored
    server_id = uuid.uuid4().hex
    home.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed: a crash leaves the old file or the whole new one.
    descriptor, temp_name = tempfile.mkstemp(dir=home, prefix=".server-id-")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(server_id + "\n")
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return server_id


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kolibri-like")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


class LanDiscovery:
    """Announces one server and browses for its peers, in a worker thread of its own.

    The worker:
    1. reads the machine's addresses; if they changed since the last look (or the last try
       failed), closes the old zeroconf instance and opens one on the new addresses, registers
       our service (renamed "Name-2" by zeroconf if another server already uses the name) and
       starts a browser for our subtype;
    2. refreshes every known peer from the mDNS cache (or asks it again, waiting at most
       RESOLVE_TIMEOUT_MS each), so `last_seen` stays true;
    3. sleeps RECHECK_SECONDS, or until stop() is called, and goes back to 1.
    Browser events (added, updated, removed) arrive on zeroconf's browser thread in between.
    """

    def __init__(self, announcement: Announcement, addresses: Callable[[], Sequence[str]], *,
                 recheck_seconds: float = RECHECK_SECONDS,
                 zeroconf_factory: Callable[[list[str]], Any] | None = None) -> None:
        self.announcement = announcement
        self._addresses = addresses
        self._recheck_seconds = recheck_seconds
        self._zeroconf_factory = zeroconf_factory or _open_zeroconf
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lan-discovery", daemon=True)
        self._write_lock = threading.Lock()
        self._peers: dict[str, Peer] = {}
        self._zeroconf: Any = None
        self._browser: Any = None
        self._info: Any = None
        self._bound: list[str] | None = None
        self._name_number = 1
        self._logged_problem = ""
        # Readers take this reference without a lock: it is replaced whole, never changed.
        self.snapshot = DiscoverySnapshot(state="starting")

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Say goodbye on the LAN (peers drop us at once) and stop; waits at most `timeout`."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("LAN discovery did not stop within %.0f s; leaving it", timeout)
            return
        self._close()
        self._publish(state="stopped")

    def peers(self) -> tuple[Peer, ...]:
        return self.snapshot.peers

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._check_name_conflict()
                self._follow_addresses()
                self._refresh_peers()
            except Exception as error:  # noqa: BLE001 - discovery must never take the server down
                self._fail(error)
            if self._stopping.wait(self._recheck_seconds):
                break

    def _follow_addresses(self) -> None:
        addresses = sorted(self._addresses())
        if addresses == self._bound:  # None after a failure: then try again
            return
        self._close()
        self._bound = None
        if not addresses:
            self._bound = addresses
            self._publish(state="no-address")
            return
        zeroconf = self._zeroconf_factory(addresses)
        self._zeroconf = zeroconf
        self._info = self._register(zeroconf, addresses)
        info = self._info
        from zeroconf import ServiceBrowser

        self._browser = ServiceBrowser(zeroconf, SERVICE_SUBTYPE, handlers=[self._on_change])
        self._bound = addresses
        self._logged_problem = ""
        logger.info("announcing %r on the LAN at %s port %s", info.name, ", ".join(addresses),
                    self.announcement.port)
        self._publish(state="running")

    def _register(self, zeroconf: Any, addresses: list[str]) -> Any:
        """Register under SERVER_NAME, or "SERVER_NAME (2)", (3)... when probing finds the name
        taken. (zeroconf's own renaming would put the subtype's labels into the name.)"""
        from zeroconf import NonUniqueNameException

        for _attempt in range(MAX_NAME_NUMBER):
            info = build_service_info(self.announcement, addresses, self._name_number)
            try:
                zeroconf.register_service(info, allow_name_change=False)
                return info
            except NonUniqueNameException:
                self._name_number = self._name_number % MAX_NAME_NUMBER + 1
        raise NameTakenError(f"{MAX_NAME_NUMBER} names like {self.announcement.server_name!r} "
                             f"are taken on this network; set SERVER_NAME to another name")

    def _check_name_conflict(self) -> None:
        """Two servers that start at the same moment may both probe a free name and take it
        (python-zeroconf settles no conflict after probing). Each then holds the other's TXT
        record under the shared name; the one with the greater server id moves to the next
        number, and the next _follow_addresses registers it there."""
        zeroconf, info = self._zeroconf, self._info
        if zeroconf is None or info is None:
            return
        from zeroconf.const import _CLASS_IN, _TYPE_TXT

        ours = self.announcement.server_id
        for record in zeroconf.cache.get_all_by_details(info.name, _TYPE_TXT, _CLASS_IN):
            other = txt_values(record.text).get("server_id", "")
            if SERVER_ID_PATTERN.fullmatch(other) and other < ours:
                logger.warning("another server (%s) also announces %r; moving to the next name",
                               other, shown_name(info.name))
                self._name_number = self._name_number % MAX_NAME_NUMBER + 1
                self._bound = None
                return

    def _on_change(self, zeroconf: Any, service_type: str, name: str, state_change: Any) -> None:
        """zeroconf's browser thread: look the peer up (bounded wait) or forget it."""
        from zeroconf import ServiceStateChange

        if self._stopping.is_set():
            return
        if state_change is ServiceStateChange.Removed:
            self._forget(name)
            return
        try:
            info = zeroconf.get_service_info(service_type, name, timeout=RESOLVE_TIMEOUT_MS)
        except Exception as error:  # noqa: BLE001 - e.g. closing under us; the next event retries
            logger.debug("could not resolve %r: %s", name, error)
            return
        if info is not None:
            self._remember(name, info)

    def _refresh_peers(self) -> None:
        zeroconf = self._zeroconf
        if zeroconf is None:
            return
        with self._write_lock:  # the browser thread may add or drop one meanwhile
            names = list(self._peers)
        for name in names:
            if self._stopping.is_set():
                return
            info = zeroconf.get_service_info(SERVICE_SUBTYPE, name, timeout=RESOLVE_TIMEOUT_MS)
            if info is not None:
                self._remember(name, info)

    def _remember(self, name: str, info: Any) -> None:
        peer = peer_from_service_info(info, datetime.now(timezone.utc))
        if peer is None or peer.server_id == self.announcement.server_id:
            return  # ourselves (multicast loops back), or nothing a browser could open
        with self._write_lock:
            if name not in self._peers and len(self._peers) >= MAX_PEERS:
                return
            self._peers[name] = peer
        self._publish()

    def _forget(self, name: str) -> None:
        with self._write_lock:
            self._peers.pop(name, None)
        self._publish()

    def _publish(self, state: str | None = None, problem: str | None = None) -> None:
        with self._write_lock:
            previous = self.snapshot
            info = self._info
            self.snapshot = DiscoverySnapshot(
                state=state or previous.state,
                peers=tuple(sorted(self._peers.values(), key=lambda peer: peer.name.lower())),
                problem=previous.problem if problem is None else problem,
                announced_as=shown_name(info.name) if info is not None else "",
                addresses=tuple(self._bound or ()),
            )

    def _fail(self, error: Exception) -> None:
        problem = f"{error.__class__.__name__}: {error}"
        if problem != self._logged_problem:  # once per cause, not every RECHECK_SECONDS
            logger.warning("LAN discovery is not working (%s); the server runs on and tries "
                           "again every %.0f s", problem, self._recheck_seconds)
            self._logged_problem = problem
        self._close()
        self._bound = None
        self._publish(state="failed", problem=problem)

    def _close(self) -> None:
        zeroconf, browser, self._zeroconf, self._browser = self._zeroconf, self._browser, None, None
        self._info = None
        try:
            if browser is not None:
                browser.cancel()  # joins the browser thread: no event arrives after this
            if zeroconf is not None:
                zeroconf.unregister_all_services()  # the goodbye packets
        except Exception as error:  # noqa: BLE001 - closing must go on whatever failed
            logger.debug("closing LAN discovery: %s", error)
        finally:
            if zeroconf is not None:
                zeroconf.close()
            with self._write_lock:
                self._peers.clear()


def _open_zeroconf(addresses: list[str]) -> Any:
    from zeroconf import IPVersion, Zeroconf

    return Zeroconf(interfaces=addresses, ip_version=IPVersion.V4Only)


_active: LanDiscovery | None = None
_active_lock = threading.Lock()


def start_discovery(host: str, port: int, *, scheme: str = "http",
                    addresses: Callable[[], Sequence[str]] | None = None,
                    recheck_seconds: float = RECHECK_SECONDS) -> LanDiscovery | None:
    """Announce this server and browse for peers, unless ZEROCONF_ENABLED is off (then nothing
    is sent and None is returned). Returns at once: the network work runs in a thread, and any
    failure there is logged, never raised."""
    global _active
    from django.conf import settings

    if not settings.ZEROCONF_ENABLED:
        logger.info("LAN discovery is off (ZEROCONF_ENABLED=0)")
        return None
    try:
        announcement = Announcement(server_name=str(settings.SERVER_NAME), port=port,
                                    server_id=load_server_id(Path(settings.HOME)),
                                    version=package_version(), scheme=scheme)
        discovery = LanDiscovery(announcement, addresses or addresses_for_host(host),
                                 recheck_seconds=recheck_seconds)
        with _active_lock:
            if _active is not None:
                _active.stop()
            _active = discovery
        discovery.start()
    except Exception:  # noqa: BLE001 - the server serves learners with or without discovery
        logger.exception("LAN discovery did not start; the server runs without it")
        return None
    return discovery


def stop_discovery(discovery: LanDiscovery | None) -> None:
    global _active
    if discovery is None:
        return
    discovery.stop()
    with _active_lock:
        if _active is discovery:
            _active = None


def current_snapshot() -> DiscoverySnapshot:
    """What this process's discovery knows now; never waits on the network or on a lock."""
    from django.conf import settings

    discovery = _active
    if discovery is not None:
        return discovery.snapshot
    return DiscoverySnapshot(state="stopped" if settings.ZEROCONF_ENABLED else "off")

