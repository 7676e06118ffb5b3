"""What this server announces on the LAN and where: the DNS-SD service (type, instance name,
TXT records), the addresses it is announced on, and the server id that tells peers apart.

    announcement = Announcement(server_name="Room 4", port=8000,
                                server_id=load_server_id(home), version=package_version())
    info = build_service_info(announcement, addresses_for_host("0.0.0.0")())
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVICE_TYPE = "_http._tcp.local."
SERVICE_SUBTYPE = "_kolibri-like._sub._http._tcp.local."
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
# Our records live two minutes (RFC 6762 suggests 75 for PTR): a server unplugged without saying
# goodbye drops off the import page after two minutes instead of an hour and a quarter. Browsers
# re-ask at 80% of that, a few small packets per minute on a classroom LAN.
RECORD_TTL_SECONDS = 120
DNS_LABEL_BYTES = 63
SERVER_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
SERVER_ID_FILE = "server-id"


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
