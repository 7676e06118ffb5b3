"""Writes on accounts: the first admin, created without any prompt."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable

from django.conf import settings
from django.db import transaction

from accounts.models import User

INITIAL_ADMIN_FILE = "initial-admin.txt"


def ensure_initial_admin(announce: Callable[[str], None] = print) -> User | None:
    """Create the first admin if the server has none.

    With KOLIBRI_LIKE_ADMIN_USERNAME/PASSWORD set, that account; otherwise `admin` with a random
    password, printed once and written to `$KOLIBRI_LIKE_HOME/initial-admin.txt` (mode 0600).
    Returns the new user, or None when an admin already exists.
    """
    config = settings.CONFIG
    with transaction.atomic():
        if User.objects.filter(role=User.Role.ADMIN).exists():
            return None
        username = config.admin_username or "admin"
        password = config.admin_password or secrets.token_urlsafe(12)
        user, _created = User.objects.get_or_create(username=username)
        user.role = User.Role.ADMIN
        user.is_active = True
        user.set_password(password)
        user.save()
    if not config.admin_password:
        path = Path(settings.HOME) / INITIAL_ADMIN_FILE
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"username: {username}\npassword: {password}\n")
        announce(f"Created the first admin: username {username!r}, password {password!r} "
                 f"(also saved in {path}; change it after signing in).")
    else:
        announce(f"Created the first admin {username!r} from KOLIBRI_LIKE_ADMIN_USERNAME.")
    return user
