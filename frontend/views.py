"""Learner page views: check access, call a selector, render.

Channel views run with the channel's database active (the routing middleware sets it from the
URL's `channel_id`).
"""

from __future__ import annotations

from functools import wraps
from typing import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from content.constants import TOPIC
from frontend import selectors

View = Callable[..., HttpResponse]


def guest_or_signed_in(view: View) -> View:
    """Anonymous visitors see the pages only while ALLOW_GUEST_ACCESS is on."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not settings.ALLOW_GUEST_ACCESS and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


@require_safe
@guest_or_signed_in
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/home.html", {"channels": selectors.channel_cards()})


@require_safe
@guest_or_signed_in
def channel(request: HttpRequest, channel_id: str) -> HttpResponse:
    page = selectors.topic_page(channel_id, None, request.GET.get("page", 1))
    return render(request, "frontend/topic.html", {"topic": page})


@require_safe
@guest_or_signed_in
def topic(request: HttpRequest, channel_id: str, node_id: str) -> HttpResponse:
    page = selectors.topic_page(channel_id, node_id, request.GET.get("page", 1))
    if page.node.kind != TOPIC:
        return redirect("frontend:content", channel_id=channel_id, node_id=node_id)
    if page.is_root:
        return redirect("frontend:channel", channel_id=channel_id)
    return render(request, "frontend/topic.html", {"topic": page})


@require_safe
@guest_or_signed_in
def content(request: HttpRequest, channel_id: str, node_id: str) -> HttpResponse:
    page = selectors.content_page(channel_id, node_id)
    if page.node.kind == TOPIC:
        return redirect("frontend:topic", channel_id=channel_id, node_id=node_id)
    return render(request, "frontend/content.html", {"content": page})
