"""Admin pages for accounts under `/admin/users/`: list, create, import from CSV, edit, reset a
password, disable and enable.

Plain forms posting to these views, which call the same services as `/api/users/`
(accounts/services.py, accounts/csv_import.py). A generated password is rendered once in the
answer to the POST that made it (never put in a message: messages may live in a cookie) with
`Cache-Control: no-store`.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import services
from accounts.csv_import import MAX_FILE_BYTES, MAX_ROWS, UserFileError, import_users
from accounts.models import User
from frontend.admin_views import View, forbidden

USERS_PER_PAGE = 50


def user_admins_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(request.user, "is_admin", False):
            return forbidden(request, gettext("Only an admin of this server may manage accounts."))
        return view(request, *args, **kwargs)

    return wrapper


def acting_admin(request: HttpRequest) -> User:
    """The signed-in admin (user_admins_only let no one else in)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def page_context(**values: Any) -> dict[str, Any]:
    return {"admin_section": "users", "roles": services.ROLES, **values}


@require_safe
@user_admins_only
def user_list(request: HttpRequest) -> HttpResponse:
    filters = {name: request.GET.get(name, "") for name in ("search", "role", "is_active")}
    users = services.find_users(**filters)
    page = Paginator(users, USERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "frontend/admin/users.html", page_context(page=page, filters=filters))


@require_http_methods(["GET", "HEAD", "POST"])
@user_admins_only
def user_new(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            user = services.create_account(
                request.POST.get("username", ""), full_name=request.POST.get("full_name", ""),
                role=request.POST.get("role", ""), password=request.POST.get("password", ""))
        except services.AccountInputError as error:
            errors = error.errors
        else:
            messages.success(request, gettext("The account %(username)s was created.")
                             % {"username": user.username})
            return redirect("frontend:admin-user", user_id=user.pk)
    return render(request, "frontend/admin/users_new.html",
                  page_context(errors=errors, form=request.POST),
                  status=400 if errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@user_admins_only
def user_import(request: HttpRequest) -> HttpResponse:
    result, file_error = None, ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            file_error = gettext("Choose a CSV file.")
        else:
            try:
                result = import_users(upload.read(MAX_FILE_BYTES + 1))
            except UserFileError as error:
                file_error = str(error)
    return render(request, "frontend/admin/users_import.html",
                  page_context(result=result, file_error=file_error,
                               max_rows=MAX_ROWS, max_kib=MAX_FILE_BYTES // 1024),
                  status=400 if file_error else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@user_admins_only
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET shows the account; POST saves its name and role."""
    user = get_object_or_404(User, pk=user_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            user = services.update_account(acting_admin(request), user,
                                           full_name=request.POST.get("full_name", ""),
                                           role=request.POST.get("role", ""))
        except services.AccountInputError as error:
            errors = error.errors
        else:
            messages.success(request, gettext("The account %(username)s was saved.")
                             % {"username": user.username})
            return redirect("frontend:admin-user", user_id=user.pk)
    return render(request, "frontend/admin/users_detail.html",
                  page_context(account=user, errors=errors), status=400 if errors else 200)


@require_POST
@user_admins_only
def user_password(request: HttpRequest, user_id: int) -> HttpResponse:
    """Set the password typed, or generate one and show it in this answer only."""
    user = get_object_or_404(User, pk=user_id)
    chosen = request.POST.get("password", "") if request.POST.get("generate") != "1" else None
    try:
        password = services.reset_password(user, chosen)
    except services.AccountInputError as error:
        return render(request, "frontend/admin/users_detail.html",
                      page_context(account=user, errors=error.errors), status=400)
    if chosen is not None:
        messages.success(request, gettext("The password of %(username)s was changed.")
                         % {"username": user.username})
        return redirect("frontend:admin-user", user_id=user.pk)
    response = render(request, "frontend/admin/users_detail.html",
                      page_context(account=user, errors={}, generated_password=password))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@user_admins_only
def user_active(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    is_active = request.POST.get("is_active") == "1"
    try:
        user = services.update_account(acting_admin(request), user, is_active=is_active)
    except services.AccountInputError as error:
        for field_errors in error.errors.values():
            for message in field_errors:
                messages.error(request, message)
    else:
        enabled_text = (gettext("The account %(username)s was enabled.") if user.is_active
                        else gettext("The account %(username)s was disabled."))
        messages.success(request, enabled_text % {"username": user.username})
    return redirect("frontend:admin-user", user_id=user.pk)
