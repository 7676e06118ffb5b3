"""Trusting a LAN peer that serves HTTPS with its own certificate (`kolibri-like start --https`).

Such a peer's certificate is signed by its own local authority, which no system trust store
knows, so ordinary verification fails. Verification is not turned off for it; the peer's
certificate is pinned instead, trust on first use, per peer (`host:port`):

1. A certificate that the system's authorities vouch for is accepted as usual (no pin).
2. Otherwise, the first time this server talks to that peer, the certificate it presents is
   recorded (SHA-256 fingerprint and PEM) in KOLIBRI_LIKE_HOME/tls/known_peers.json (0600; the
   backup carries it).
3. From then on, connections to that peer verify against the pinned certificate alone (it is
   the only trust anchor; the name is not checked, since LAN peers are reached by addresses that
   change). Another certificate fails the handshake before any request is sent, and
   PeerCertificateChangedError (exit 4) names both fingerprints and the command that accepts
   the new one after the other server's admin confirmed it:
   `kolibri-like trustpeer https://<peer> --fingerprint <SHA256:...>`.

    context = ssl_context_for("https://192.168.1.10:8000", "peer https://192.168.1.10:8000")
    urllib.request.urlopen(url, context=context)
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import socket
import ssl
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from channels.transfer.errors import BadTransferArgumentError, PeerUnreachableError, TransferError

logger = logging.getLogger(__name__)
PINS_FILE_NAME = "known_peers.json"
HANDSHAKE_TIMEOUT_SECONDS = 20


class PeerCertificateChangedError(TransferError):
    """A pinned peer presented another certificate: maybe re-made, maybe someone else."""

    exit_code = 4
    http_status = 502

    def __init__(self, peer: str, url: str, pinned: str, presented: str) -> None:
        super().__init__(
            f"the HTTPS certificate of {peer} changed since this server first trusted it "
            f"(trusted {pinned}, now {presented}); nothing was downloaded. If the admin of "
            f"that server confirms the new fingerprint (it changes when that server gets a new "
            f"address or its certificate is renewed), accept it with: kolibri-like trustpeer "
            f"{url} --fingerprint {presented}")
        self.pinned, self.presented = pinned, presented


class FingerprintMismatchError(TransferError):
    exit_code = 4
    http_status = 400


@dataclass(frozen=True)
class PinnedPeer:
    peer: str  # host:port
    fingerprint: str
    pem: str
    pinned_at: str


def pins_path() -> Path:
    return Path(settings.HOME) / "tls" / PINS_FILE_NAME


def peer_address(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise BadTransferArgumentError(f"not an https server address: {url!r}")
    try:
        port = parsed.port or 443
    except ValueError:
        raise BadTransferArgumentError(f"not a server address: {url!r}") from None
    return parsed.hostname.lower(), port


def peer_key(url: str) -> str:
    host, port = peer_address(url)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def fingerprint(der: bytes) -> str:
    """"SHA256:AB:CD:..." as `openssl x509 -fingerprint -sha256` shows it (colons optional
    when typed)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return "SHA256:" + ":".join(digest[index:index + 2] for index in range(0, 64, 2))


def normalise_fingerprint(text: str) -> str:
    cleaned = text.strip().upper().removeprefix("SHA256:").replace(":", "")
    if len(cleaned) != 64 or any(character not in "0123456789ABCDEF" for character in cleaned):
        raise BadTransferArgumentError(
            f"not a SHA-256 fingerprint: {text!r}; give it as SHA256:AB:CD:... (64 hex digits)")
    return "SHA256:" + ":".join(cleaned[index:index + 2] for index in range(0, 64, 2))


@contextmanager
def _locked_pins() -> Iterator[dict[str, Any]]:
    """The pins, read and written back under a lock (two imports may pin at once)."""
    path = pins_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = os.open(path.with_name(PINS_FILE_NAME + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pins = _read(path)
        before = json.dumps(pins, sort_keys=True)
        yield pins
        if json.dumps(pins, sort_keys=True) != before:
            partial = path.with_name(f".{PINS_FILE_NAME}.partial")
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(pins, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
    finally:
        os.close(lock)


def _read(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise TransferError(f"{path} cannot be read ({error}); move it away to trust peers "
                            "anew") from None
    return loaded if isinstance(loaded, dict) else {}


def pinned_peer(url: str) -> PinnedPeer | None:
    entry = _read(pins_path()).get(peer_key(url))
    if not isinstance(entry, dict):
        return None
    return PinnedPeer(peer_key(url), str(entry.get("fingerprint", "")), str(entry.get("pem", "")),
                      str(entry.get("pinned_at", "")))


def pinned_peers() -> list[PinnedPeer]:
    return [PinnedPeer(key, str(entry.get("fingerprint", "")), str(entry.get("pem", "")),
                       str(entry.get("pinned_at", "")))
            for key, entry in sorted(_read(pins_path()).items()) if isinstance(entry, dict)]


def pin_certificate(url: str, der: bytes) -> PinnedPeer:
    key = peer_key(url)
    entry = {"fingerprint": fingerprint(der), "pem": ssl.DER_cert_to_PEM_cert(der),
             "pinned_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    with _locked_pins() as pins:
        pins[key] = entry
    logger.warning("trusting the HTTPS certificate of %s: %s", key, entry["fingerprint"])
    return PinnedPeer(key, entry["fingerprint"], entry["pem"], entry["pinned_at"])


def forget_peer(url: str) -> bool:
    with _locked_pins() as pins:
        return pins.pop(peer_key(url), None) is not None


def presented_certificate(url: str, label: str) -> bytes:
    """The certificate the peer presents, from a handshake that checks nothing and sends no
    request (to pin it, or to name it in an error)."""
    host, port = peer_address(url)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=HANDSHAKE_TIMEOUT_SECONDS) as raw:
            with context.wrap_socket(raw, server_hostname=host) as wrapped:
                der = wrapped.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as error:
        raise PeerUnreachableError(label, error) from None
    if not der:
        raise PeerUnreachableError(label, "it presented no certificate")
    return der


@lru_cache(maxsize=32)
def _pinned_context(pem: str) -> ssl.SSLContext:
    # Built once per pinned certificate: an import makes one request per file, and loading
    # the system's authorities (which a pinned context does not want anyway) is slow.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=pem)
    context.check_hostname = False  # the pin is the identity; LAN addresses change
    # The pinned certificate alone is the trust anchor, whoever issued it.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


@lru_cache(maxsize=1)
def _system_context() -> ssl.SSLContext:
    return ssl.create_default_context()


# Peers (host:port) whose certificate the system's authorities vouched for, in this process.
_system_trusted: set[str] = set()


def _system_trusts(url: str) -> bool:
    key = peer_key(url)
    if key in _system_trusted:
        return True
    host, port = peer_address(url)
    try:
        with socket.create_connection((host, port), timeout=HANDSHAKE_TIMEOUT_SECONDS) as raw:
            with _system_context().wrap_socket(raw, server_hostname=host):
                _system_trusted.add(key)
                return True
    except ssl.SSLCertVerificationError:
        return False
    except (OSError, ssl.SSLError):
        return True  # not a question of trust: the real request reports it


def ssl_context_for(url: str, label: str) -> ssl.SSLContext | None:
    """The context to open `url` with: None for http; the system's for a certificate it
    trusts; else one that trusts only the peer's pinned certificate (pinned now if this is the
    first contact). See the module doc."""
    if urllib.parse.urlsplit(url).scheme != "https":
        return None
    pinned = pinned_peer(url)
    if pinned is None:
        if _system_trusts(url):
            return _system_context()
        pinned = pin_certificate(url, presented_certificate(url, label))
    return _pinned_context(pinned.pem)


def certificate_changed_error(url: str, label: str) -> PeerCertificateChangedError | None:
    """After a failed verification against a pin: the error naming both fingerprints (None
    when the peer now presents the pinned certificate after all, or has no pin)."""
    pinned = pinned_peer(url)
    if pinned is None:
        return None
    presented = fingerprint(presented_certificate(url, label))
    if presented == pinned.fingerprint:
        return None
    base = urllib.parse.urlunsplit(("https", urllib.parse.urlsplit(url).netloc, "", "", ""))
    return PeerCertificateChangedError(pinned.peer, base, pinned.fingerprint, presented)


def trust_peer(url: str, expected_fingerprint: str | None, label: str) -> PinnedPeer:
    """Pin the certificate the peer presents now (the admin's `trustpeer`); with
    `expected_fingerprint`, only if it is that one."""
    der = presented_certificate(url, label)
    presented = fingerprint(der)
    if expected_fingerprint is not None:
        wanted = normalise_fingerprint(expected_fingerprint)
        if presented != wanted:
            raise FingerprintMismatchError(
                f"{peer_key(url)} presents {presented}, not {wanted}; nothing was changed. "
                "Check the address, and the fingerprint with that server's admin.")
    return pin_certificate(url, der)
