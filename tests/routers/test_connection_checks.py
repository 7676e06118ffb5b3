"""The per-request check of old connections looks only at aliases this thread can hold open."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections as django_close_old_connections
from django.db import connections
from django.db import reset_queries as django_reset_queries
from django.test.client import ClientHandler

from routers.connection_checks import aliases_to_check, install_connection_checks
from routers.context import using_content_database
from routers.registry import complete_database_settings, register_alias, unregister_alias

pytestmark = pytest.mark.django_db

SPARE_ALIASES = 3000


class OtherClientHandler(ClientHandler):
    """A test client's handler from outside django.test."""


@pytest.fixture
def checks_installed():
    # Django's test client puts its own receiver back after each request: start clean.
    install_connection_checks()
    yield
    install_connection_checks()


def test_django_receiver_is_replaced(checks_installed):
    for signal in (request_started, request_finished):
        receivers = [receiver() for _key, receiver, *_rest in signal.receivers]
        assert django_close_old_connections not in receivers
        assert django_reset_queries not in receivers
        assert any(getattr(receiver, "__module__", "") == "routers.connection_checks"
                   for receiver in receivers)


def test_a_request_does_not_walk_every_registered_alias(checks_installed, monkeypatch,
                                                        make_channel):
    channel = make_channel("walked")
    with using_content_database(channel.channel_id):
        pass
    template = complete_database_settings({"ENGINE": "django.db.backends.sqlite3",
                                           "NAME": ":memory:"})
    spare = [f"{index:032x}" for index in range(1, SPARE_ALIASES + 1)]
    for alias in spare:
        register_alias(alias, dict(template))
    try:
        def walk_refused(*args, **kwargs):
            raise AssertionError("connections.all() walks every registered alias")

        monkeypatch.setattr(connections, "all", walk_refused)
        request_started.send(sender=WSGIHandler)
        request_finished.send(sender=WSGIHandler)
        checked = aliases_to_check()
        assert channel.channel_id in checked
        assert not set(spare) & set(checked)
    finally:
        for alias in spare:
            unregister_alias(alias)


def test_an_obsolete_channel_connection_is_still_closed(checks_installed, make_channel):
    channel = make_channel("obsolete")
    with using_content_database(channel.channel_id):
        from content.models import ContentNode

        assert ContentNode.objects.count() > 0
    wrapper = connections[channel.channel_id]
    assert wrapper.connection is not None
    # Django's own rule: a connection past its `close_at` is closed by the request check.
    wrapper.close_at = time.monotonic() - 1
    # The test client's own requests leave it alone, as they leave Django's check alone, also
    # through a client handler defined outside Django (as rest_framework.test's is).
    request_finished.send(sender=None)
    request_started.send(sender=OtherClientHandler)
    assert wrapper.connection is not None
    request_finished.send(sender=WSGIHandler)
    assert wrapper.connection is None


def test_the_app_installs_the_checks_at_start_up():
    # In a fresh process: the test client puts Django's receivers back after its requests.
    probe = (
        "import django; django.setup()\n"
        "from django.core.signals import request_started\n"
        "from django.db import close_old_connections\n"
        "receivers = [receiver() for _key, receiver, *_rest in request_started.receivers]\n"
        "print(close_old_connections in receivers,\n"
        "      any(r.__module__ == 'routers.connection_checks' for r in receivers))\n")
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                               timeout=60, env={**os.environ, "DJANGO_SETTINGS_MODULE":
                                                "kolibri_like.test_settings"})
    assert completed.stdout.split() == ["False", "True"], completed.stderr
