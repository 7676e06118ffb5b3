from __future__ import annotations

from channels.transfer.peer_http import normalize_base_url
from channels.transfer.peer_trust import forget_peer, pinned_peers, trust_peer
from kolibri_like.command_base import ProductCommand


class Command(ProductCommand):
    help = ("Trust the HTTPS certificate a LAN peer presents now (after it changed, once its "
            "admin confirmed the fingerprint), forget a peer, or list the trusted ones. Peers "
            "started with `kolibri-like start --https` are trusted on first use.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("url", nargs="?", help="the peer, e.g. https://192.168.1.10:8000")
        parser.add_argument("--fingerprint", help="trust it only if it presents this SHA-256 "
                            "fingerprint (SHA256:AB:CD:...)")
        parser.add_argument("--forget", action="store_true",
                            help="forget the peer's certificate; the next import trusts the "
                            "one it presents then")

    def run(self, *args, **options) -> None:
        if not options["url"]:
            peers = pinned_peers()
            for peer in peers:
                self.write_line(f"{peer.peer}  {peer.fingerprint}  (since {peer.pinned_at})")
            if not peers:
                self.write_line("No https peer is trusted yet; the first import from one "
                                "trusts the certificate it presents.")
            return
        base = normalize_base_url(options["url"])
        label = f"peer {base}"
        if options["forget"]:
            known = forget_peer(base)
            self.write_line(f"Forgot the certificate of {base}." if known
                            else f"No certificate of {base} was trusted.")
            return
        pinned = trust_peer(base, options["fingerprint"], label)
        self.write_line(f"Trusting {pinned.peer}: {pinned.fingerprint}")
