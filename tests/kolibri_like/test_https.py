"""`kolibri-like start --https`: the self-signed certificate (kolibri_like/tls.py) and a real
server answering over TLS, pages and content bytes with Range alike.

`HTTPSServerProcess` is the https twin of tests/servers.py's ServerProcess (which only starts
plain http); the offline browser test uses it too.
"""

from __future__ import annotations

import json
import os
import ssl
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from kolibri_like.server import parse_start_arguments
from kolibri_like.tls import (
    RENEW_BEFORE_DAYS,
    CertificateError,
    certificate_for_start,
    check_given_certificate,
    ensure_certificate,
    generate_authority,
    generate_server_certificate,
)
from tests.servers import KOLIBRI_LIKE, START_TIMEOUT_SECONDS, ServerProcess

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=timezone.utc)
SCHOOL_HOSTS = ["localhost", "127.0.0.1", "[::1]", "school-box", "192.168.4.20", "*",
                ".school.lan", "[fe80::1%eth0]"]


class HTTPSServerProcess(ServerProcess):
    """`kolibri-like start --https` on 127.0.0.1, waited for over TLS."""

    def __init__(self, home: Path, **kwargs: object) -> None:
        super().__init__(home, **kwargs)  # type: ignore[arg-type]
        self.url = f"https://127.0.0.1:{self.port}"

    @property
    def authority(self) -> Path:
        """What a tablet would be told to trust."""
        return self.home / "tls" / "ca.crt"

    def start(self) -> HTTPSServerProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        command = [KOLIBRI_LIKE, "start", "--https", "--host", "127.0.0.1",
                   "--port", str(self.port)]
        if not self.consumer:
            command.append("--no-consumer")
        self.log_path = self.home / "server-output.log"
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        # The certificate does not exist before the first start: only wait for an answer here.
        unverified = ssl.create_default_context()
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/api/channels/", timeout=2,
                                            context=unverified):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError):
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"server did not answer within {START_TIMEOUT_SECONDS}s:\n"
                             f"{self.output()}")


def alternative_names(certificate_pem: bytes) -> tuple[set[str], set[str]]:
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (set(names.get_values_for_type(x509.DNSName)),
            {str(address) for address in names.get_values_for_type(x509.IPAddress)})


def test_the_first_start_makes_a_certificate_for_every_name_and_address(tmp_path):
    paths = ensure_certificate(tmp_path / "tls", SCHOOL_HOSTS, common_name="Room 4", now=NOW)

    assert paths.generated
    names, addresses = alternative_names(paths.certificate.read_bytes())
    assert names == {"localhost", "school-box"}
    assert addresses == {"127.0.0.1", "::1", "192.168.4.20"}
    chain = x509.load_pem_x509_certificates(paths.certificate.read_bytes())
    certificate, authority = chain
    assert authority == x509.load_pem_x509_certificate(paths.authority.read_bytes())
    certificate.verify_directly_issued_by(authority)
    assert authority.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert certificate.not_valid_before_utc < NOW < certificate.not_valid_after_utc
    # Phones refuse a server certificate without serverAuth, or valid longer than 825 days.
    assert (certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            == x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]))
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc <= timedelta(
        days=826)
    for key in (paths.private_key, tmp_path / "tls" / "ca.key"):
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "tls").st_mode) == 0o700
    check_given_certificate(paths.certificate, paths.private_key)  # a matching pair


def test_the_next_start_keeps_the_same_certificate(tmp_path):
    first = ensure_certificate(tmp_path / "tls", SCHOOL_HOSTS, now=NOW)
    certificate_pem = first.certificate.read_bytes()

    again = ensure_certificate(tmp_path / "tls", list(reversed(SCHOOL_HOSTS)),
                               now=NOW + timedelta(days=100))

    assert not again.generated
    assert again.certificate.read_bytes() == certificate_pem


def test_a_new_lan_address_gets_a_new_certificate_from_the_same_authority(tmp_path):
    first = ensure_certificate(tmp_path / "tls", SCHOOL_HOSTS, now=NOW)
    authority_pem = first.authority.read_bytes()
    announced: list[str] = []

    again = ensure_certificate(tmp_path / "tls", [*SCHOOL_HOSTS, "10.0.0.7"], now=NOW,
                               announce=announced.append)

    assert again.generated
    assert "10.0.0.7" in alternative_names(again.certificate.read_bytes())[1]
    assert announced == [f"Made the HTTPS certificate (the old one does not cover 10.0.0.7): "
                         f"{again.certificate}"]
    # Tablets that trust the authority keep trusting the server.
    assert again.authority.read_bytes() == authority_pem


def test_a_certificate_about_to_expire_is_made_again(tmp_path):
    first = ensure_certificate(tmp_path / "tls", SCHOOL_HOSTS, now=NOW)
    expires = x509.load_pem_x509_certificate(first.certificate.read_bytes()).not_valid_after_utc

    assert not ensure_certificate(tmp_path / "tls", SCHOOL_HOSTS,
                                  now=expires - timedelta(days=RENEW_BEFORE_DAYS + 1)).generated
    assert ensure_certificate(tmp_path / "tls", SCHOOL_HOSTS,
                              now=expires - timedelta(days=RENEW_BEFORE_DAYS - 1)).generated


def test_a_key_that_does_not_match_is_replaced_with_a_new_pair(tmp_path):
    first = ensure_certificate(tmp_path / "tls", SCHOOL_HOSTS, now=NOW)
    # A crash between writing the key and the certificate leaves such a pair.
    first.private_key.write_bytes(generate_authority(common_name="x")[1])

    again = ensure_certificate(tmp_path / "tls", SCHOOL_HOSTS, now=NOW)

    assert again.generated
    check_given_certificate(again.certificate, again.private_key)


def test_a_new_authority_means_a_new_server_certificate(tmp_path):
    first = ensure_certificate(tmp_path / "tls", SCHOOL_HOSTS, now=NOW)
    first.authority.unlink()

    again = ensure_certificate(tmp_path / "tls", SCHOOL_HOSTS, now=NOW)

    certificate, authority = x509.load_pem_x509_certificates(again.certificate.read_bytes())
    certificate.verify_directly_issued_by(
        x509.load_pem_x509_certificate(again.authority.read_bytes()))


def test_an_admins_certificate_must_match_its_key(tmp_path):
    authority_pem, authority_key = generate_authority(common_name="a")
    certificate_pem, _key = generate_server_certificate(
        ["school-box"], authority_certificate=authority_pem, authority_key=authority_key)
    (tmp_path / "a.crt").write_bytes(certificate_pem)
    (tmp_path / "b.key").write_bytes(authority_key)

    with pytest.raises(CertificateError, match="not a usable certificate"):
        check_given_certificate(tmp_path / "a.crt", tmp_path / "b.key")
    with pytest.raises(CertificateError, match="is not a file"):
        check_given_certificate(tmp_path / "missing.crt", tmp_path / "b.key")


@pytest.mark.parametrize("argv", [["--cert", "a.crt"], ["--https", "--key", "a.key"],
                                  ["--cert", "a.crt", "--key", "a.key"]])
def test_cert_and_key_come_together_and_with_https(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_start_arguments(argv)
    assert exit_info.value.code == 2


def test_https_is_off_unless_asked():
    assert parse_start_arguments([]).https is False
    arguments = parse_start_arguments(["--https", "--cert", "a.crt", "--key", "a.key"])
    assert (arguments.https, arguments.cert, arguments.key) == (True, Path("a.crt"),
                                                                Path("a.key"))


def trusting_session(server: HTTPSServerProcess) -> requests.Session:
    session = requests.Session()
    # Else REQUESTS_CA_BUNDLE from the environment quietly wins over `verify`.
    session.trust_env = False
    session.verify = str(server.authority)
    return session


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HTTPSServerProcess]:
    server = HTTPSServerProcess(tmp_path_factory.mktemp("https") / "server")
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    server.run_command("generate_demo_channel", "--nodes", "12", "--seed", "3")
    with server:
        yield server


@pytest.mark.server
def test_the_server_answers_over_https_with_the_certificate_it_made(https_server):
    # Verified against the server's authority, as on a tablet told to trust it: passes only
    # when the certificate names 127.0.0.1 and chains to the authority.
    session = trusting_session(https_server)

    page = session.get(https_server.url + "/", timeout=10)
    assert page.status_code == 200
    assert "Channels" in page.text
    assert "kolibri-like is serving at https://127.0.0.1" in https_server.output()
    # Django sees the request as secure, so the links it builds say https.
    channel = session.get(https_server.url + "/api/channels/", timeout=10).json()["results"][0]
    nodes = session.get(f"{https_server.url}/api/content/{channel['id']}/contentnode/"
                        "?page_size=1", timeout=10).json()
    assert nodes["next"].startswith(https_server.url + "/")


@pytest.mark.server
def test_content_bytes_come_in_ranges_over_https(https_server):
    session = trusting_session(https_server)
    channel = session.get(https_server.url + "/api/channels/", timeout=10).json()["results"][0]
    files = session.get(f"{https_server.url}/api/content/{channel['id']}/file/?page_size=100",
                        timeout=10).json()["results"]
    largest = max(files, key=lambda file: file["file_size"])
    whole = session.get(https_server.url + largest["url"], timeout=30)
    assert whole.status_code == 200 and len(whole.content) == largest["file_size"]

    tail = session.get(https_server.url + largest["url"], timeout=10,
                       headers={"Range": f"bytes={largest['file_size'] - 100}-"})

    assert tail.status_code == 206
    assert tail.headers["Content-Range"] == (
        f"bytes {largest['file_size'] - 100}-{largest['file_size'] - 1}/{largest['file_size']}")
    assert tail.content == whole.content[-100:]


@pytest.mark.server
def test_plain_http_on_the_https_port_is_refused_not_served(https_server):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(https_server.url.replace("https://", "http://") + "/", timeout=10)


@pytest.mark.server
def test_the_service_worker_comes_from_the_root_uncached(https_server):
    session = trusting_session(https_server)

    worker = session.get(https_server.url + "/sw.js", timeout=10)

    assert worker.status_code == 200
    assert worker.headers["Content-Type"].startswith("text/javascript")
    assert worker.headers["Cache-Control"] == "no-cache"
    shell = json.loads(worker.text.split("self.KOLIBRI_SHELL = ", 1)[1].split(";\n", 1)[0])
    for url in shell["urls"]:  # everything the worker caches when it installs is there
        assert session.get(https_server.url + url, timeout=10).status_code == 200, url


@pytest.mark.server
def test_a_client_that_goes_quiet_mid_handshake_does_not_hold_up_the_others(https_server):
    # A tablet that connects and leaves the Wi-Fi before shaking hands. cheroot's own adapter
    # shook hands in its accept loop, so everyone else waited its 30 s timeout.
    port = int(https_server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        time.sleep(0.3)  # accepted by now
        started = time.monotonic()
        answer = trusting_session(https_server).get(https_server.url + "/ping/", timeout=20)
        waited = time.monotonic() - started
    assert answer.status_code == 204
    assert waited < 5, f"the answer waited {waited:.1f} s behind a silent client"


@pytest.mark.server
def test_refused_handshakes_leave_no_tracebacks_in_the_log(https_server):
    # Every first visit from a browser that does not trust the certificate ends like this.
    with pytest.raises(requests.exceptions.SSLError):
        requests.Session().get(https_server.url + "/ping/", timeout=10, verify=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(https_server.url.replace("https://", "http://") + "/ping/", timeout=10)
    time.sleep(0.5)
    assert "Traceback" not in https_server.output()


def test_start_makes_the_certificate_under_the_home_for_the_allowed_hosts(settings, tmp_path):
    settings.HOME = tmp_path
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "school.lan", ".district.lan"]
    announced: list[str] = []

    paths = certificate_for_start(None, None, announce=announced.append)

    assert paths.certificate == tmp_path / "tls" / "server.crt"
    assert paths.authority == tmp_path / "tls" / "ca.crt"
    assert "school.lan" in alternative_names(paths.certificate.read_bytes())[0]
    assert len(announced) == 2  # the authority, then the server's certificate
    again = certificate_for_start(None, None, announce=announced.append)
    assert not again.generated and len(announced) == 2


@pytest.mark.server
def test_start_refuses_a_certificate_that_is_not_there(tmp_path):
    server = ServerProcess(tmp_path / "server")
    server.home.mkdir(parents=True)

    result = server.run_command("start", "--https", "--host", "127.0.0.1", "--port",
                                str(server.port), "--no-consumer", "--cert",
                                str(tmp_path / "missing.crt"), "--key",
                                str(tmp_path / "missing.key"), check=False, timeout=120)

    assert result.returncode == 4
    assert "missing.crt is not a file" in result.stderr
