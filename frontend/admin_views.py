"""Admin pages: manage channels (versions, revert, delete, export) and import them.

Server-rendered like the learner pages. Every action is a plain form POST (it works without
JavaScript) that calls the same services as the API; `frontend/static/frontend/admin.js` turns
the task forms into `POST /api/tasks/` calls and polls `/api/tasks/<id>/` for progress.

The channel keyword is `pk`, not `channel_id`: the routing middleware would otherwise open the
channel's database and answer 404 for a rejected channel, which an admin must still reach.
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from channels.errors import ChannelError
from channels.transfer import discovery
from channels.versions import delete_channel, revert_channel
from frontend import admin_selectors as selectors
from jobs import services as job_services
from jobs.errors import InvalidJobParamsError, JobError

View = Callable[..., HttpResponse]
TASK_FORM_FIELDS = ("kind", "source", "channel_id", "drive", "url", "import_id")
NODE_ID_FIELDS = ("node_ids", "exclude_node_ids")


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "frontend/admin/forbidden.html", {"message": message}, status=403)


def authors_only(view: View) -> View:
    """Signed in as an author or an admin; others get a page saying so (403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(request.user, "is_author", False):
            return forbidden(request, gettext("These pages are for the authors and admins of "
                                              "this server."))
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as error:
            return forbidden(request, str(error) or gettext("You may not do this."))

    return wrapper


def admins_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(request.user, "is_admin", False):
            return forbidden(request, gettext("Only an admin of this server may import channels."))
        return view(request, *args, **kwargs)

    return wrapper


@require_safe
@authors_only
def channel_list(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/admin/channels.html",
                  {"rows": selectors.managed_channels(request.user), "admin_section": "channels"})


@require_safe
@authors_only
def channel_detail(request: HttpRequest, pk: str) -> HttpResponse:
    return render(request, "frontend/admin/channel.html",
                  {"page": selectors.channel_admin_page(request.user, pk),
                   "admin_section": "channels"})


@require_POST
@authors_only
def channel_revert(request: HttpRequest, pk: str) -> HttpResponse:
    channel = selectors.managed_channel(request.user, pk)
    number = request.POST.get("version", "")
    if not (number.isascii() and number.isdigit()):
        messages.error(request, gettext("Choose a version to revert to."))
    else:
        try:
            channel = revert_channel(channel.id, int(number))
        except ChannelError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, gettext("%(name)s now serves version %(version)s.")
                             % {"name": channel.name, "version": channel.version})
    return redirect("frontend:admin-channel", pk=channel.id)


@require_http_methods(["GET", "HEAD", "POST"])
@authors_only
def channel_delete(request: HttpRequest, pk: str) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    channel = selectors.managed_channel(request.user, pk)
    if request.method != "POST":
        return render(request, "frontend/admin/delete.html",
                      {"channel": channel, "version_count": channel.versions.count()})
    try:
        delete_channel(channel.id)
    except ChannelError as error:
        messages.error(request, str(error))
        return redirect("frontend:admin-channel", pk=channel.id)
    messages.success(request, gettext("%(name)s was deleted from this server.")
                     % {"name": channel.name})
    return redirect("frontend:admin-channels")


@require_safe
@admins_only
def import_page(request: HttpRequest) -> HttpResponse:
    source_text = request.GET.get("from", "").strip()
    return render(request, "frontend/admin/import.html", {
        "source_text": source_text,
        "listing": selectors.source_listing(source_text) if source_text else None,
        "drives": selectors.detected_drives(),
        "unfinished": selectors.unfinished_imports(),
        "jobs": selectors.transfer_jobs(request.user),
        # Servers found on the LAN: a snapshot the discovery thread keeps, read without waiting.
        "lan": discovery.current_snapshot(),
        "admin_section": "import",
    })


@require_POST
@authors_only
def task_start(request: HttpRequest) -> HttpResponse:
    """The no-JavaScript path of every task form; the same service as `POST /api/tasks/`."""
    payload = task_payload(request.POST)
    try:
        job = job_services.start_job(request.user, payload)
    except InvalidJobParamsError as error:
        messages.error(request, gettext("Not started: %(problem)s")
                       % {"problem": f"{error.field}: {error.message}"})
    except JobError as error:
        messages.error(request, gettext("Not started: %(problem)s") % {"problem": error})
    else:
        messages.success(request, gettext("Task started (%(kind)s); its progress is shown below.")
                         % {"kind": job.kind})
    return redirect(safe_next(request, reverse("frontend:admin-import")))


@require_POST
@authors_only
def task_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    try:
        job = job_services.cancel_job(request.user, job_id)
    except JobError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, gettext("Cancelled.") if job.state == "cancelled"
                         else gettext("Cancelling: the task stops after the file it is copying."))
    return redirect(safe_next(request, reverse("frontend:admin-import")))


def task_payload(form: Any) -> dict[str, Any]:
    """A task form's fields as the JSON body `POST /api/tasks/` takes."""
    payload: dict[str, Any] = {name: form[name] for name in TASK_FORM_FIELDS
                               if form.get(name, "") != ""}
    if "content" in form:
        # A hidden "0" before the checkbox's "1": an unticked box still says so.
        payload["content"] = "1" in form.getlist("content")
    for name in NODE_ID_FIELDS:
        if form.get(name, "").strip():
            payload[name] = form[name]
    return payload


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default
