"""Template context for every page: the server's name and whether guests may browse."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {"server_name": settings.SERVER_NAME, "allow_guest_access": settings.ALLOW_GUEST_ACCESS}
