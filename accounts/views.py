"""The page where a signed-in user changes their own password (`/account/password/`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django.utils.translation import gettext

from accounts.models import User
from accounts.services import AccountInputError, change_own_password


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):  # login_required let only signed-in users in
        return redirect_to_login(request.get_full_path())
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        new_password = request.POST.get("new_password", "")
        if new_password != request.POST.get("new_password_again", ""):
            errors = {"new_password_again": [
                gettext("The two new passwords differ; type it twice.")]}
        else:
            try:
                change_own_password(user, request.POST.get("old_password", ""),
                                    new_password)
            except AccountInputError as error:
                errors = error.errors
            else:
                # Keep this browser signed in; the user's other sessions end.
                update_session_auth_hash(request, user)
                messages.success(request, gettext("Your password was changed."))
                return redirect("password-change")
    return render(request, "accounts/password_change.html", {"errors": errors},
                  status=400 if errors else 200)
