"""Authors' pages: "My courses" (`/author/`) and the course wizard (`/author/drafts/<id>/`).

The wizard page is a shell: it embeds the draft's JSON (the same `draft_json` the API answers)
so the first paint needs no request, and `frontend/static/frontend/wizard.js` and its
`wizard-*.js` parts do the rest through the drafts API (autosave, uploads with `tus.js`,
publish, cancel). Starting a draft is a plain form POST, so "New course" and "Edit (new
version)" work before any script runs.

    GET  /author/                      the author's open drafts and published courses
    POST /author/drafts/new/           a new draft (or, with channel_id, the next version)
    GET  /author/drafts/<id>/          the wizard on the step the author was on

Who may: authors and admins (`admin_views.authors_only`: anonymous visitors go to sign in,
learners get the "Not allowed" page); someone else's draft is a 404, as in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from authoring.drafts import create_draft, get_draft
from authoring.errors import AuthoringError, DraftNotFoundError, InvalidDraftError
from authoring.models import Draft
from authoring.serializers import draft_json
from channels.models import Channel
from frontend.admin_views import authors_only

# The wizard builds the learner's link from this once publish names the channel.
CHANNEL_URL_PLACEHOLDER = "0" * 32


@dataclass(frozen=True)
class PublishedCourse:
    channel: Channel
    # A course whose current version came from this server's wizard can be edited here.
    editable: bool
    open_draft: Draft | None


def open_drafts(user: Any) -> list[Draft]:
    """The drafts the author can still work on (admins: everyone's), newest first."""
    return list(Draft.objects.visible_to(user).live().select_related("owner"))


def published_courses(user: Any, drafts: list[Draft]) -> list[PublishedCourse]:
    """Channels the user owns (admins: every channel made here), with whether they can be
    edited: only a version made by a draft kept on this server is a starting point."""
    channels = Channel.objects.all()
    if not getattr(user, "is_admin", False):
        channels = channels.filter(owner_id=user.pk)
    made_here = set(Draft.objects.filter(state=Draft.State.PUBLISHED)
                    .values_list("channel_id", "published_version"))
    if getattr(user, "is_admin", False):
        channels = channels.filter(id__in={channel_id for channel_id, _ in made_here})
    draft_by_channel = {draft.channel_id: draft for draft in drafts}
    return [PublishedCourse(channel=channel,
                            editable=(channel.id, channel.version) in made_here,
                            open_draft=draft_by_channel.get(channel.id))
            for channel in channels]


@require_safe
@authors_only
def author_home(request: HttpRequest) -> HttpResponse:
    drafts = open_drafts(request.user)
    return render(request, "frontend/authoring/home.html", {
        "drafts": drafts,
        "courses": published_courses(request.user, drafts),
        "author_section": "courses",
    })


@require_POST
@authors_only
def draft_new(request: HttpRequest) -> HttpResponse:
    channel_id = request.POST.get("channel_id") or None
    try:
        draft = create_draft(request.user, channel_id=channel_id)
    except InvalidDraftError as error:
        messages.error(request, gettext("Not started: %(problem)s") % {"problem": "; ".join(
            f"{field}: {message}" for field, message in error.errors.items())})
        return redirect("frontend:author-home")
    except AuthoringError as error:
        messages.error(request, gettext("Not started: %(problem)s") % {"problem": error})
        return redirect("frontend:author-home")
    return redirect("frontend:author-draft", draft_id=draft.id)


@require_safe
@authors_only
def draft_wizard(request: HttpRequest, draft_id: str) -> HttpResponse:
    try:
        draft = get_draft(request.user, draft_id)
    except DraftNotFoundError as error:
        raise Http404(str(error)) from error
    return render(request, "frontend/authoring/wizard.html", {
        "draft": draft,
        "draft_data": draft_json(draft),
        "channel_url_template": reverse("frontend:channel",
                                        kwargs={"channel_id": CHANNEL_URL_PLACEHOLDER}),
        "channel_url_placeholder": CHANNEL_URL_PLACEHOLDER,
        "author_section": "wizard",
    })
