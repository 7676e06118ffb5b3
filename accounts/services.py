"""Writes on accounts: the first admin, created without any prompt, and the accounts admins
manage (create, reset a password, disable) and users change (their own password)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

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


# Accounts managed by admins (issue 5): create, reset a password, disable, change one's own.
#
#     user = create_account("amina", full_name="Amina K.", role="learner", password="...")
#     new_password = reset_password(user)            # generated; shown to the admin once
#     update_account(actor=admin, user=user, is_active=False)
#
# The full name is kept in `first_name` (the User table has no other name column), so Django's
# `get_full_name()` gives it back whole.

GENERATED_PASSWORD_BYTES = 9  # 12 URL-safe characters: easy to read out, hard to guess
FULL_NAME_MAX_LENGTH = 150
ROLES = tuple(User.Role.values)


class AccountInputError(Exception):
    """What was asked cannot be done; `errors` names the field and says why, per field."""

    exit_code = 4  # invalid input (INTERFACE.md)

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(" ".join(f"{field}: {' '.join(messages)}"
                                  for field, messages in errors.items()))


def password_problems(password: str, user: User) -> list[str]:
    """Why `password` is not acceptable for `user` (empty: it is)."""
    if not password:
        return [gettext("Type a password.")]
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return list(error.messages)
    return []


def username_problems(username: str) -> list[str]:
    if not username:
        return [gettext("Type a username.")]
    if len(username) > 150:
        return [gettext("Use at most %(count)s characters.") % {"count": 150}]
    try:
        User.username_validator(username)
    except ValidationError:
        return [gettext("Use only letters, digits and @ . + - _ (no spaces).")]
    # Case-insensitive: "Amina" and "amina" would be two people no one can tell apart at sign-in.
    if User.objects.filter(username__iexact=username).exists():
        return [gettext("The username %(username)r is taken.") % {"username": username}]
    return []


def role_problems(role: str) -> list[str]:
    if role not in ROLES:
        return [gettext("Choose one of %(roles)s (not %(role)r).")
                % {"roles": ", ".join(ROLES), "role": role}]
    return []


def full_name_problems(full_name: str) -> list[str]:
    if len(full_name) > FULL_NAME_MAX_LENGTH:
        return [gettext("Use at most %(count)s characters.") % {"count": FULL_NAME_MAX_LENGTH}]
    return []


def account_problems(username: str, full_name: str, role: str,
                     password: str) -> dict[str, list[str]]:
    """Every reason the account cannot be created, per field (empty: it can)."""
    candidate = User(username=username, first_name=full_name, role=role)
    problems = {
        "username": username_problems(username),
        "full_name": full_name_problems(full_name),
        "role": role_problems(role),
        "password": password_problems(password, candidate),
    }
    return {field: messages for field, messages in problems.items() if messages}


def create_account(username: str, *, full_name: str = "", role: str = User.Role.LEARNER,
                   password: str) -> User:
    """A new active account. Raises AccountInputError naming each bad field."""
    username, full_name = username.strip(), full_name.strip()
    role = (role or User.Role.LEARNER).strip().lower()
    problems = account_problems(username, full_name, role, password)
    if problems:
        raise AccountInputError(problems)
    try:
        with transaction.atomic():
            return User.objects.create_user(username, password=password, first_name=full_name,
                                            role=role)
    except IntegrityError:
        # Someone created the same username between the check and the insert.
        raise AccountInputError({"username": [gettext("The username %(username)r is taken.")
                                              % {"username": username}]}) from None


def find_users(*, role: str = "", is_active: str = "", search: str = "") -> QuerySet[User]:
    """Accounts for the admin's list (the one read here: the API and the page share it).
    `is_active` is "true" or "false"; empty or unknown filters are ignored."""
    users = User.objects.order_by("username")
    if role in ROLES:
        users = users.filter(role=role)
    if is_active in ("true", "false"):
        users = users.filter(is_active=is_active == "true")
    search = search.strip()
    if search:
        users = users.filter(Q(username__icontains=search) | Q(first_name__icontains=search))
    return users


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def reset_password(user: User, password: str | None = None) -> str:
    """Set `user`'s password to `password`, or to a generated one; returns the new password.

    The user's signed-in sessions end (Django checks a hash of the password on each request).
    """
    new_password = password if password is not None else generate_password()
    problems = password_problems(new_password, user)
    if problems:
        raise AccountInputError({"password": problems})
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return new_password


def change_own_password(user: User, old_password: str, new_password: str) -> None:
    """A signed-in user changes their password; the old one must be right."""
    if not user.check_password(old_password):
        raise AccountInputError({"old_password": [gettext("The current password is not right.")]})
    problems = password_problems(new_password, user)
    if problems:
        raise AccountInputError({"new_password": problems})
    user.set_password(new_password)
    user.save(update_fields=["password"])


def update_account(actor: User, user: User, *, full_name: str | None = None,
                   role: str | None = None, is_active: bool | None = None) -> User:
    """Change a user's name, role or whether they may sign in.

    Two rules keep the server manageable: an admin cannot disable or demote themselves, and the
    last active admin is never disabled or demoted. Disabling is `is_active = False`: Django's
    sign-in, sessions and DRF's token authentication all refuse inactive users.
    """
    errors: dict[str, list[str]] = {}
    if full_name is not None:
        full_name = full_name.strip()
        if full_name_problems(full_name):
            errors["full_name"] = full_name_problems(full_name)
    if role is not None:
        role = role.strip().lower()
        if role_problems(role):
            errors["role"] = role_problems(role)
    if errors:
        raise AccountInputError(errors)
    with transaction.atomic():
        # Locked, so two admins demoting each other at once cannot leave no admin.
        admins = list(User.objects.select_for_update()
                      .filter(role=User.Role.ADMIN, is_active=True).values_list("pk", flat=True))
        user = User.objects.select_for_update().get(pk=user.pk)
        loses_admin = user.pk in admins and (
            is_active is False or (role is not None and role != User.Role.ADMIN))
        if loses_admin and user.pk == actor.pk:
            field = "is_active" if is_active is False else "role"
            raise AccountInputError({field: [gettext(
                "You cannot disable your own account or take away your own admin role; "
                "ask another admin.")]})
        if loses_admin and len(admins) <= 1:
            field = "is_active" if is_active is False else "role"
            raise AccountInputError({field: [gettext(
                "This is the last active admin: make another account an admin first.")]})
        if full_name is not None:
            user.first_name = full_name
        if role is not None and role != user.role:
            user.role = role
            if role != User.Role.ADMIN:
                # User.save turns a superuser back into an admin: drop the flags with the role.
                user.is_superuser = False
                user.is_staff = False
        if is_active is not None:
            user.is_active = is_active
        user.save()
    return user
