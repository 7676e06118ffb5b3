"""Import from a LAN peer started with `kolibri-like start --https` (its own certificate): the
certificate is pinned on first use, verification stays on everywhere else, a changed
certificate stops the import with a clear error, and `trustpeer` accepts the new one."""

from __future__ import annotations

import ssl
import stat
import urllib.error
import urllib.request

import pytest

from channels.models import Channel
from channels.transfer.peer_trust import fingerprint, pins_path
from storage.models import StoredFile
from tests.channels.transfer.helpers import run
from tests.kolibri_like.test_https import HTTPSServerProcess

pytestmark = [pytest.mark.server, pytest.mark.django_db]


def served_fingerprint(server: HTTPSServerProcess) -> str:
    """The fingerprint of the certificate the peer serves (the first one in server.crt)."""
    pem = (server.home / "tls" / "server.crt").read_text()
    first = pem[:pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    return fingerprint(ssl.PEM_cert_to_DER_cert(first))


@pytest.fixture
def https_peer(tmp_path):
    server = HTTPSServerProcess(tmp_path / "peer")
    server.home.mkdir(parents=True)
    server.run_command("migrate", "--no-input", "-v", "0")
    generated = server.run_command("generate_demo_channel", "--nodes", "6", "--seed", "4")
    channel_id = generated.stdout.strip().splitlines()[-1]
    server.start()
    try:
        yield server, channel_id
    finally:
        server.stop()
        server.drop_database()


def test_an_https_peer_is_pinned_on_first_use_and_a_new_certificate_needs_trustpeer(
        https_peer, settings, tmp_path, content_dir):
    server, channel_id = https_peer
    settings.HOME = tmp_path / "this-server"
    code, out, err = run("listchannels", "network", server.url)
    assert code == 0 and channel_id in out, err
    pins = pins_path().read_text()
    assert served_fingerprint(server) in pins
    assert stat.S_IMODE(pins_path().stat().st_mode) == 0o600

    code, out, err = run("importchannel", "network", channel_id, server.url)
    assert code == 0 and "Installed channel" in out, err
    code, out, err = run("importcontent", "network", channel_id, server.url)
    assert code == 0 and "Imported" in out, err
    assert Channel.objects.get(id=channel_id).state == Channel.State.AVAILABLE
    stored = StoredFile.objects.count()
    assert stored > 0

    # Nothing else trusts the peer: verification is on everywhere but for the pinned peer.
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(server.url + "/api/channels/", timeout=10)  # noqa: S310
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)

    # The peer gets a new certificate (as after a new address): import stops, says how to go on.
    old = served_fingerprint(server)
    server.stop()
    for name in ("server.crt", "server.key"):
        (server.home / "tls" / name).unlink()
    server.start()
    new = served_fingerprint(server)
    assert new != old
    code, _out, err = run("importcontent", "network", channel_id, server.url)
    assert code == 4, err
    assert "changed" in err and old in err and new in err
    assert f"kolibri-like trustpeer {server.url} --fingerprint {new}" in err
    assert StoredFile.objects.count() == stored

    code, _out, err = run("trustpeer", server.url, "--fingerprint", "SHA256:" + "00" * 32)
    assert code == 4 and new in err
    code, out, err = run("trustpeer", server.url, "--fingerprint", new)
    assert code == 0 and new in out, err
    code, out, err = run("listchannels", "network", server.url)
    assert code == 0 and channel_id in out, err
    code, out, _err = run("trustpeer")
    assert new in out and old not in out

    # Forgotten, the peer is trusted on first use again.
    code, out, _err = run("trustpeer", server.url, "--forget")
    assert code == 0 and "Forgot" in out and new not in pins_path().read_text()
    code, out, err = run("listchannels", "network", server.url)
    assert code == 0 and channel_id in out, err
    assert new in pins_path().read_text()
