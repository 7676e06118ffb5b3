"""Template context for every page: the server's name and whether guests may browse."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {"server_name": settings.SERVER_NAME, "allow_guest_access": settings.ALLOW_GUEST_ACCESS}


def admin_clock(request: HttpRequest) -> dict[str, object]:
    """On admin pages, for admins: a warning when the clock looks wrong (offline boxes lose the
    date, and certificates and the collector depend on it). Other pages pay nothing."""
    user = getattr(request, "user", None)
    if not request.path.startswith("/admin/") or not getattr(user, "is_admin", False):
        return {}
    from operations.diagnostics import clock_warning

    return {"clock_warning": clock_warning()}
