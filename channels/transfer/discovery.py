"""Servers of ours on the LAN, found with mDNS/DNS-SD (python-zeroconf): announce and browse.

`kolibri-like start` announces this server as an `_http._tcp` service of our own subtype
(`_kolibri-like._sub._http._tcp.local.`), named `SERVER_NAME`, on this machine's non-loopback
IPv4 addresses, with TXT records `version`, `server_id`, `path` and `scheme`; it browses for
the same subtype and keeps the peers it sees. The import page reads `current_snapshot()`: an immutable
tuple replaced whole by the browsing threads, so a request never waits on the network.

    discovery = start_discovery(host="0.0.0.0", port=8000)   # None when ZEROCONF_ENABLED=0
    current_snapshot().peers  # (Peer(name="Room 4", addresses=("192.168.1.10",), ...), ...)
    discovery.stop()

This module holds the one discovery of the process (start, stop, what it knows now); the
rest is beside it, one job each:

    discovery_announcement.py  what we announce, on which addresses; the server id
    discovery_peers.py         what we accept from the network; the import page's snapshot
    discovery_worker.py        the thread that announces and browses (LanDiscovery)

mDNS is link-local multicast (224.0.0.251:5353, TTL 255 but never routed): nothing leaves the
LAN. A failure to open the multicast sockets is logged and retried; it never stops the server.

Why a subtype only: python-zeroconf answers a service under the one type it was registered
with (its issue #304), so we register the subtype, which is what our browsers ask for; generic
`_http._tcp` browsers (avahi-browse _http._tcp) do not list us.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from channels.transfer.discovery_announcement import (
    DNS_LABEL_BYTES,
    RECORD_TTL_SECONDS,
    SERVER_ID_FILE,
    SERVER_ID_PATTERN,
    SERVICE_SUBTYPE,
    SERVICE_TYPE,
    WILDCARD_HOSTS,
    Announcement,
    addresses_for_host,
    build_service_info,
    instance_name,
    interface_ipv4_addresses,
    load_server_id,
    package_version,
    usable_ipv4,
)
from channels.transfer.discovery_peers import (
    MAX_TXT_VALUE_LENGTH,
    DiscoverySnapshot,
    Peer,
    peer_from_service_info,
    shown_name,
    txt_values,
)
from channels.transfer.discovery_worker import (
    MAX_NAME_NUMBER,
    MAX_PEERS,
    RECHECK_SECONDS,
    RESOLVE_TIMEOUT_MS,
    STOP_TIMEOUT_SECONDS,
    LanDiscovery,
    NameTakenError,
)

# The names other modules and the tests have always imported from here.
__all__ = [
    "DNS_LABEL_BYTES", "MAX_NAME_NUMBER", "MAX_PEERS", "MAX_TXT_VALUE_LENGTH", "RECHECK_SECONDS",
    "RECORD_TTL_SECONDS", "RESOLVE_TIMEOUT_MS", "SERVER_ID_FILE", "SERVER_ID_PATTERN",
    "SERVICE_SUBTYPE", "SERVICE_TYPE", "STOP_TIMEOUT_SECONDS", "WILDCARD_HOSTS", "Announcement",
    "DiscoverySnapshot", "LanDiscovery", "NameTakenError", "Peer", "addresses_for_host",
    "build_service_info", "current_snapshot", "instance_name", "interface_ipv4_addresses",
    "load_server_id", "package_version", "peer_from_service_info", "shown_name",
    "start_discovery", "stop_discovery", "txt_values", "usable_ipv4",
]

logger = logging.getLogger(__name__)

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
