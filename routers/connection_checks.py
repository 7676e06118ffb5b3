"""Django's per-request connection upkeep, without a walk of every registered alias.

Django connects `close_old_connections` to `request_started` and `request_finished`, and
`reset_queries` to `request_started`. Each asks every registered alias whether this thread has
opened it (`connections.all(initialized_only=True)`, one thread-local lookup per alias), and a
server that has served 1,000 channels holds 1,000 aliases: three walks of 1,000 lookups per
request, on every request, channel or not.

- `close_old_connections` is replaced by one that visits only the aliases that can hold a
  connection in a request thread, with Django's own rule (`close_if_unusable_or_obsolete`):
  the aliases configured at start-up (`default`, the task queue's, ...), the channel aliases
  this thread opened (`routers.registry` tracks them for its bound), and the channels active
  right now (a block that is still reading). A channel connection never grows old
  (CONN_MAX_AGE None: freshness and the bound in `routers.registry` decide when it closes);
  the check still closes one whose last query failed with an error that made it unusable.
- `reset_queries` is dropped unless DEBUG is on: without DEBUG no connection keeps a query log
  (a test's CaptureQueriesContext keeps one and handles `reset_queries` itself).

    install_connection_checks()   # routers.apps.RoutersConfig.ready
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections as django_close_old_connections
from django.db import connections
from django.db import reset_queries as django_reset_queries

from routers.context import active_content_databases
from routers.registry import opened_in_this_thread

_static_aliases: tuple[str, ...] = ()
DISPATCH_UID = "routers.close_old_connections"


def aliases_to_check() -> list[str]:
    """The aliases that can hold a connection in this thread, each once, configured ones first."""
    candidates = [*_static_aliases, *opened_in_this_thread(), *active_content_databases()]
    return list(dict.fromkeys(candidates))


def _opened_wrappers() -> list[Any]:
    per_thread = connections._connections  # type: ignore[attr-defined]
    registered = connections.settings
    # Only wrappers this thread already made: asking `connections[alias]` would make one.
    return [connections[alias] for alias in aliases_to_check()
            if alias in registered and hasattr(per_thread, alias)]


def sent_by_a_server(sender: Any) -> bool:
    """Whether a request signal comes from a server's handler (WSGI or ASGI).

    Django's test client switches Django's own check off around the requests it makes, so that
    a test's open transaction is not closed under it; this check follows it. The client sends
    `request_started` as its ClientHandler (or a subclass of it), and `request_finished` with
    no handler at all.
    """
    if sender is None:
        return False
    # Also a client handler made elsewhere on Django's (rest_framework.test's, for instance).
    classes = getattr(sender, "__mro__", (type(sender),))
    return not any(getattr(each, "__module__", "").startswith("django.test") for each in classes)


def close_old_connections(sender: Any = None, **kwargs: Any) -> None:
    if not sent_by_a_server(sender):
        return
    for wrapper in _opened_wrappers():
        wrapper.close_if_unusable_or_obsolete()


def install_connection_checks() -> None:
    """Swap Django's receivers for this module's (idempotent)."""
    global _static_aliases
    _static_aliases = tuple(connections.settings)
    if not settings.DEBUG:
        request_started.disconnect(django_reset_queries)
    for signal in (request_started, request_finished):
        signal.disconnect(django_close_old_connections)
        signal.connect(close_old_connections, dispatch_uid=DISPATCH_UID)
