"""The import page lists the servers LAN discovery found, each with a button that puts its
address into the LAN import form (a GET of `?from=<url>`, which fills the field and lists the
peer's channels, with or without JavaScript)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from django.test import Client

from channels.transfer import discovery
from channels.transfer.discovery import DiscoverySnapshot, Peer

pytestmark = pytest.mark.django_db


def import_page_html(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/admin/import/")
    assert response.status_code == 200, response.content[:800]
    return response.content.decode()


def lan_section(html: str) -> str:
    found = re.search(r"<section[^>]*data-lan-servers.*?</section>", html, flags=re.S)
    assert found, "no 'Servers found on the network' section"
    return found.group(0)


def test_the_import_page_lists_a_discovered_server_with_a_button_that_fills_its_address(
        admin_user, monkeypatch):
    peer = Peer(name="Room 4 server", addresses=("192.168.1.10", "10.0.0.4"), port=8000,
                last_seen=datetime.now(timezone.utc) - timedelta(minutes=3),
                server_id="a" * 32, version="0.1.0")
    monkeypatch.setattr(discovery, "current_snapshot",
                        lambda: DiscoverySnapshot(state="running", peers=(peer,)))
    section = lan_section(import_page_html(admin_user))
    assert "Servers found on the network" in section
    assert "Room 4 server" in section and "version 0.1.0" in section
    assert "3\xa0minutes ago" in section
    forms = re.findall(r"<form.*?</form>", section, flags=re.S)
    assert len(forms) == 2  # one per address the peer announced
    for form, url in zip(forms, ["http://192.168.1.10:8000", "http://10.0.0.4:8000"],
                         strict=True):
        assert 'method="get"' in form and "action=" not in form  # this page, ?from=<url>
        assert f'name="from" value="{url}"' in form
        assert "Use this server" in form


def test_a_server_name_from_the_network_is_escaped(admin_user, monkeypatch):
    peer = Peer(name='<img src=x onerror="alert(1)">', addresses=("192.168.1.11",), port=8000,
                last_seen=datetime.now(timezone.utc))
    monkeypatch.setattr(discovery, "current_snapshot",
                        lambda: DiscoverySnapshot(state="running", peers=(peer,)))
    section = lan_section(import_page_html(admin_user))
    assert "<img" not in section and "&lt;img src=x" in section


def test_the_import_page_says_when_discovery_is_off(admin_user, settings):
    settings.ZEROCONF_ENABLED = False
    section = lan_section(import_page_html(admin_user))
    assert "ZEROCONF_ENABLED=0" in section and "<form" not in section


def test_the_import_page_says_discovery_runs_with_the_server(admin_user, settings):
    settings.ZEROCONF_ENABLED = True  # on, but nothing started it in this test process
    section = lan_section(import_page_html(admin_user))
    assert "kolibri-like start" in section


def test_the_import_page_says_why_discovery_does_not_work(admin_user, monkeypatch):
    monkeypatch.setattr(discovery, "current_snapshot", lambda: DiscoverySnapshot(
        state="failed", problem="OSError: [Errno 19] No such device"))
    section = lan_section(import_page_html(admin_user))
    assert "No such device" in section


def test_the_import_page_says_none_was_found_yet(admin_user, monkeypatch):
    monkeypatch.setattr(discovery, "current_snapshot",
                        lambda: DiscoverySnapshot(state="running"))
    section = lan_section(import_page_html(admin_user))
    assert "No other server found yet" in section
