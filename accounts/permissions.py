"""Permission classes for the API, reused by every app.

Private objects of someone else answer 404, not 403: querysets are filtered to what the user may
see, and these classes only decide who may call at all.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy
from rest_framework.permissions import SAFE_METHODS, BasePermission


def guest_access_allowed() -> bool:
    return bool(getattr(settings, "ALLOW_GUEST_ACCESS", True))


class GuestReadable(BasePermission):
    """Anyone reads when ALLOW_GUEST_ACCESS is on, else signed-in users; only admins write."""

    message = gettext_lazy("Sign in to see this server's content.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if request.method in SAFE_METHODS:
            return guest_access_allowed() or bool(user and user.is_authenticated)
        return bool(user and user.is_authenticated and getattr(user, "is_admin", False))


class IsSignedIn(BasePermission):
    message = gettext_lazy("Sign in first.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_active)


class IsAdmin(BasePermission):
    message = gettext_lazy("Only an admin of this server may do this.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated
                    and getattr(request.user, "is_admin", False))


class IsAuthorOrAdmin(BasePermission):
    message = gettext_lazy("Only authors and admins may do this.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated
                    and getattr(request.user, "is_author", False))


def owns_or_admin(user, owner_id: int | None) -> bool:
    """Admins manage everything; an author manages what they own."""
    if not (user and user.is_authenticated):
        return False
    if getattr(user, "is_admin", False):
        return True
    return owner_id is not None and owner_id == user.pk
