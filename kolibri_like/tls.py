"""HTTPS for `kolibri-like start --https`: this machine's own certificates, and a WSGI server
that speaks TLS.

Browsers only run service workers (which keep the app shell for when the Wi-Fi drops) on
HTTPS, and a school LAN has no certificate authority, so the server makes its own: a local
authority (`ca.crt`, what an admin may install on tablets once to get rid of the warning) and a
server certificate it signs for every name and address learners may type. Both live under
`KOLIBRI_LIKE_HOME/tls/` (folder 0700, keys 0600); the server certificate is made again when an
address changed or it is about to expire, still signed by the same authority, so tablets that
trust the authority keep trusting the server.

waitress has no TLS, so HTTPS runs on cheroot (pure Python, the server Kolibri itself ships),
wrapped to look like waitress's server to `kolibri_like.server`:

    paths = ensure_certificate(home / "tls", machine_hosts())
    server = create_https_server(application, host="0.0.0.0", port=8000, threads=16,
                                 certificate=paths.certificate, private_key=paths.private_key)
    server.run()  # until server.close(), e.g. from a SIGTERM handler
"""

from __future__ import annotations

import ipaddress
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

# iOS and macOS refuse server certificates valid longer than 825 days, even ones a user trusts
# by hand; an admin who installs ours on the tablets must not hit that.
VALIDITY_DAYS = 825
# A new certificate this long before the old one expires, so a server left running for weeks
# does not start the term with an expired one.
RENEW_BEFORE_DAYS = 30
# The authority is what an admin installs on tablets once; browsers do not limit a root's
# lifetime, and a new one would mean installing it again everywhere.
AUTHORITY_VALIDITY_DAYS = 10 * 365
AUTHORITY_CERTIFICATE_FILE = "ca.crt"
AUTHORITY_KEY_FILE = "ca.key"
# Clocks on offline boxes drift; a certificate valid from yesterday survives a slow clock.
BACKDATE = timedelta(days=1)
CERTIFICATE_FILE = "server.crt"
PRIVATE_KEY_FILE = "server.key"
# Seconds a connection may sit idle (and the TLS handshake may take) before it is dropped.
CONNECTION_TIMEOUT_SECONDS = 30


class CertificateError(Exception):
    """A certificate or key given with --cert/--key is missing or unusable."""


@dataclass(frozen=True)
class CertificatePaths:
    certificate: Path  # this server's certificate, then the authority's
    private_key: Path
    authority: Path | None  # what tablets install to trust the server (None: --cert was given)
    generated: bool  # True when this call wrote a new certificate


def split_hosts(hosts: Iterable[str]) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) to put in the certificate's subjectAltName, sorted, deduplicated.
    Wildcard addresses are dropped; localhost and 127.0.0.1 are always there."""
    names: set[str] = {"localhost"}
    addresses: set[str] = {"127.0.0.1"}
    for host in hosts:
        host = host.strip().strip("[]").rstrip(".").lower()
        # Wildcards and subdomain patterns (".school.lan" in ALLOWED_HOSTS) name no one host;
        # link-local addresses with a zone ("fe80::1%eth0") cannot go in a certificate.
        if (not host or host.startswith(("*", ".")) or "%" in host or not host.isascii()
                or host in ("0.0.0.0", "::")):
            continue
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            names.add(host)
        else:
            addresses.add(str(address))
    return sorted(names), sorted(addresses)


def generate_authority(*, common_name: str,
                       now: datetime | None = None) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) of this server's own certificate authority."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = now or datetime.now(timezone.utc)
    key = _new_key()
    subject = x509.Name([
        x509.NameAttribute(x509.NameOID.COMMON_NAME,
                           f"{common_name or 'kolibri-like'} local authority"[:64]),
        x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "kolibri-like (self-signed)"),
    ])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=AUTHORITY_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return _certificate_pem(certificate), _key_pem(key)


def generate_server_certificate(hosts: Iterable[str], *, authority_certificate: bytes,
                                authority_key: bytes, common_name: str = "",
                                now: datetime | None = None) -> tuple[bytes, bytes]:
    """(certificate chain PEM: this server's then the authority's, private key PEM) for `hosts`
    (names and IP addresses), signed by the authority."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = now or datetime.now(timezone.utc)
    authority = x509.load_pem_x509_certificate(authority_certificate)
    signing_key = serialization.load_pem_private_key(authority_key, password=None)
    names, addresses = split_hosts(hosts)
    key = _new_key()
    alternative_names: list[x509.GeneralName] = [x509.DNSName(name) for name in names]
    alternative_names += [x509.IPAddress(ipaddress.ip_address(address)) for address in addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME,
                                                    (common_name or "kolibri-like")[:64])]))
        .issuer_name(authority.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=True, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            authority.public_key()), critical=False)  # type: ignore[arg-type]
        .sign(signing_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return _certificate_pem(certificate) + authority_certificate, _key_pem(key)


def _new_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    # RSA 2048 rather than an EC key: the oldest tablets in a school still accept it.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))


def _certificate_pem(certificate: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _load_certificate(path: Path) -> tuple[Any, str | None]:
    """(the first certificate in `path`, None) or (None, why it cannot be used)."""
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(path.read_bytes()), None
    except FileNotFoundError:
        return None, "there is none yet"
    except (OSError, ValueError) as error:
        return None, f"the old one is unreadable ({error})"


def _expiry_reason(certificate: Any, now: datetime) -> str | None:
    if certificate.not_valid_after_utc - timedelta(days=RENEW_BEFORE_DAYS) < now:
        return f"the old one expires on {certificate.not_valid_after_utc:%Y-%m-%d}"
    return None


def renewal_reason(certificate_path: Path, hosts: Iterable[str], *, authority_path: Path,
                   now: datetime | None = None) -> str | None:
    """Why the server certificate at `certificate_path` must be made again, or None if it is
    fine: missing, unreadable, expiring, not signed by the authority at `authority_path`, or not
    covering one of `hosts` (a new LAN address)."""
    from cryptography import x509

    now = now or datetime.now(timezone.utc)
    certificate, reason = _load_certificate(certificate_path)
    if certificate is None:
        return reason
    expiring = _expiry_reason(certificate, now)
    if expiring:
        return expiring
    authority, _reason = _load_certificate(authority_path)
    try:
        certificate.verify_directly_issued_by(authority)
    except Exception:  # noqa: BLE001 - no authority, another one, or a bad signature: same fix
        return "the old one was not signed by this server's authority"
    try:
        alternative_names = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return "the old one names no hosts"
    covered_names = {name.lower() for name in alternative_names.get_values_for_type(x509.DNSName)}
    covered_addresses = {str(address) for address in
                         alternative_names.get_values_for_type(x509.IPAddress)}
    names, addresses = split_hosts(hosts)
    missing = sorted(set(names) - covered_names) + sorted(set(addresses) - covered_addresses)
    if missing:
        return f"the old one does not cover {', '.join(missing)}"
    return None


def ensure_certificate(folder: Path, hosts: Iterable[str], *, common_name: str = "",
                       now: datetime | None = None,
                       announce: Callable[[str], None] = lambda line: None) -> CertificatePaths:
    """The authority and the server certificate in `folder`, each made (again) when needed.

    1. The authority (`ca.crt`, ten years): made when missing, unreadable, expiring, or its key
       does not match. Tablets that were told to trust it keep trusting the server through
       steps 2's renewals.
    2. The server certificate (`server.crt`, with the authority after it, and `server.key`):
       made when `renewal_reason` says so (a new address, expiry, a new authority) or its key
       does not match.
    Each file is written aside and renamed, so a name only ever holds a complete file; a crash
    between a key and its certificate leaves a pair that does not match, which the next start
    sees and repairs.
    """
    hosts = list(hosts)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    authority_path = folder / AUTHORITY_CERTIFICATE_FILE
    authority_key_path = folder / AUTHORITY_KEY_FILE
    certificate_path = folder / CERTIFICATE_FILE
    key_path = folder / PRIVATE_KEY_FILE
    moment = now or datetime.now(timezone.utc)
    generated = False

    authority, reason = _load_certificate(authority_path)
    if authority is not None:
        reason = _expiry_reason(authority, moment)
    if reason is None and not key_matches(authority_path, authority_key_path):
        reason = "the key is missing or does not match"
    if reason is not None:
        authority_pem, authority_key_pem = generate_authority(common_name=common_name, now=now)
        _write_atomically(authority_key_path, authority_key_pem, mode=0o600)
        _write_atomically(authority_path, authority_pem, mode=0o644)
        announce(f"Made this server's certificate authority ({reason}): {authority_path}. "
                 "Tablets that install it as trusted open the HTTPS pages without a warning.")
        generated = True

    reason = renewal_reason(certificate_path, hosts, authority_path=authority_path, now=now)
    if reason is None and not key_matches(certificate_path, key_path):
        reason = "the key is missing or does not match"
    if reason is not None:
        certificate_pem, key_pem = generate_server_certificate(
            hosts, authority_certificate=authority_path.read_bytes(),
            authority_key=authority_key_path.read_bytes(), common_name=common_name, now=now)
        _write_atomically(key_path, key_pem, mode=0o600)
        _write_atomically(certificate_path, certificate_pem, mode=0o644)
        announce(f"Made the HTTPS certificate ({reason}): {certificate_path}")
        generated = True
    return CertificatePaths(certificate_path, key_path, authority_path, generated=generated)


def key_matches(certificate_path: Path, key_path: Path) -> bool:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    return (certificate.public_key().public_bytes(serialization.Encoding.DER, public)
            == key.public_key().public_bytes(serialization.Encoding.DER, public))


def _write_atomically(path: Path, content: bytes, *, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    # Created with its final mode: the key is never readable by others, not even for a moment.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def check_given_certificate(certificate: Path, private_key: Path) -> None:
    """--cert/--key from the admin: both readable and a matching pair, or CertificateError."""
    import ssl

    for path in (certificate, private_key):
        if not path.is_file():
            raise CertificateError(f"{path} is not a file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(certificate), str(private_key))
    except (ssl.SSLError, OSError) as error:
        raise CertificateError(f"{certificate} and {private_key} are not a usable certificate "
                               f"and key ({error})") from error


def certificate_for_start(certificate: Path | None, private_key: Path | None, *,
                          announce: Callable[[str], None]) -> CertificatePaths:
    """For `kolibri-like start --https`: the admin's --cert/--key (checked), or this machine's
    self-signed certificate under KOLIBRI_LIKE_HOME/tls/ for every allowed name and address."""
    if certificate is not None and private_key is not None:
        check_given_certificate(certificate, private_key)
        return CertificatePaths(certificate, private_key, None, generated=False)
    from django.conf import settings

    return ensure_certificate(Path(settings.HOME) / "tls", settings.ALLOWED_HOSTS,
                              common_name=settings.SERVER_NAME, announce=announce)


def lazy_handshake_adapter(certificate: Path, private_key: Path) -> Any:
    """cheroot's TLS adapter, with the handshake moved out of cheroot's accept loop.

    cheroot shakes hands right after accepting, in the one thread that accepts every
    connection: a client that connects and goes quiet (a tablet leaving the Wi-Fi
    mid-handshake) held up every new connection for the whole timeout (measured: 30 s). Here
    the socket is only wrapped, and shakes hands on its first read, in the worker thread that
    serves that connection: a silent client only ties up its own worker. A failed handshake
    (a browser refusing the self-signed certificate, plain http on this port) closes the
    connection quietly, as cheroot does, instead of logging a traceback each time.
    """
    import ssl

    from cheroot import errors
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    class HandshakeOnFirstReadSocket(ssl.SSLSocket):
        handshake_done = False

        def _shake_hands(self) -> None:
            if self.handshake_done:
                return
            self.handshake_done = True
            try:
                self.do_handshake()
            except (ssl.SSLError, OSError) as error:
                raise errors.FatalSSLAlert(*error.args) from error

        def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
            self._shake_hands()
            return super().recv_into(buffer, nbytes, flags)

        def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
            self._shake_hands()
            return super().recv(buflen, flags)

    class LazyHandshakeSSLAdapter(BuiltinSSLAdapter):  # type: ignore[misc]
        def wrap(self, sock: Any) -> tuple[Any, dict[str, str]]:
            self.context.sslsocket_class = HandshakeOnFirstReadSocket
            try:
                wrapped = self.context.wrap_socket(sock, do_handshake_on_connect=False,
                                                   server_side=True)
            except OSError as error:
                raise errors.FatalSSLAlert(*error.args) from error
            # The cipher is not known before the handshake; the application needs the scheme.
            return wrapped, {"wsgi.url_scheme": "https", "HTTPS": "on"}

    return LazyHandshakeSSLAdapter(str(certificate), str(private_key))


class HTTPSServer:
    """cheroot's WSGI server with TLS, with waitress's `run()`/`close()`.

    cheroot's own loop runs in a thread; `run()` waits on an event in the calling (main) thread,
    so `close()` is safe from a signal handler: it only sets the event, and the main thread stops
    the server once the handler has returned.
    """

    def __init__(self, application: Any, *, host: str, port: int, threads: int,
                 certificate: Path, private_key: Path) -> None:
        from cheroot.wsgi import Server

        self._server = Server((host, port), application, numthreads=threads,
                              server_name="kolibri-like", timeout=CONNECTION_TIMEOUT_SECONDS)
        self._server.ssl_adapter = lazy_handshake_adapter(certificate, private_key)
        self._closing = threading.Event()

    def run(self) -> None:
        self._server.prepare()  # binds now, so a busy port fails here, in the caller
        loop = threading.Thread(target=self._server.serve, name="https-server", daemon=True)
        loop.start()
        try:
            while not self._closing.wait(1.0):
                if not loop.is_alive():  # cheroot's loop died on its own: stop, do not hang
                    break
        finally:
            self._server.stop()
            loop.join(timeout=10)

    def close(self) -> None:
        self._closing.set()


def create_https_server(application: Any, *, host: str, port: int, threads: int,
                        certificate: Path, private_key: Path) -> HTTPSServer:
    return HTTPSServer(application, host=host, port=port, threads=threads,
                       certificate=certificate, private_key=private_key)
