from __future__ import annotations

from django.conf import settings


def site(request) -> dict:
    return {"server_name": settings.SERVER_NAME, "allow_guest_access": settings.ALLOW_GUEST_ACCESS}
