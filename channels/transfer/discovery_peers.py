"""What LAN discovery accepts from the network: a peer's records, each field checked and cut
to size, and the snapshot of peers the import page shows.

    peer = peer_from_service_info(info, datetime.now(timezone.utc))  # None if unusable
    DiscoverySnapshot(state="running", peers=(peer,))
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.transfer.discovery_announcement import SERVER_ID_PATTERN, SERVICE_TYPE

MAX_TXT_VALUE_LENGTH = 200


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
