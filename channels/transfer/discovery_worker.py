"""The thread that announces this server on the LAN and browses for its peers (LanDiscovery),
over python-zeroconf; channels/transfer/discovery.py starts and stops it for the process.

    discovery = LanDiscovery(announcement, addresses_for_host("0.0.0.0"))
    discovery.start()
    discovery.snapshot.peers  # read without a lock: replaced whole, never changed
    discovery.stop()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from channels.transfer.discovery_announcement import (
    SERVER_ID_PATTERN,
    SERVICE_SUBTYPE,
    Announcement,
    build_service_info,
)
from channels.transfer.discovery_peers import (
    DiscoverySnapshot,
    Peer,
    peer_from_service_info,
    shown_name,
    txt_values,
)

# The worker's messages keep the logger name they always had, which operators filter on.
logger = logging.getLogger("channels.transfer.discovery")

# How often the worker looks again at the machine's addresses (Wi-Fi comes up after boot, a
# DHCP lease changes) and refreshes what it knows of each peer.
RECHECK_SECONDS = 30.0
RESOLVE_TIMEOUT_MS = 3000
STOP_TIMEOUT_SECONDS = 10.0
# A LAN has a handful of servers; a flood of fake announcements cannot grow memory past this.
MAX_PEERS = 64
# "Name (2)" ... "Name (20)": past that the network is odd enough for the admin to pick a name.
MAX_NAME_NUMBER = 20


class NameTakenError(Exception):
    """Every name we may take on this LAN is already announced by another server."""


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
