"""The learners' search page, `/search/?q=&kind=&channel=&page=`: one form, no JavaScript.

The same search as `GET /api/search/` (content.search.api.run_search): every servable
channel, each in its own index, ranked by relevance. A bad parameter shows the API's message
above the form, with status 400.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from rest_framework.exceptions import ParseError

from content.constants import CONTENT_KINDS, TOPIC
from content.search.api import run_search, searchable_channels
from content.search.service import MAX_WINDOW, SearchResult
from frontend.views import guest_or_signed_in

PAGE_SIZE = 20


@dataclass(frozen=True)
class ResultItem:
    result: SearchResult
    url: str

    @property
    def node(self) -> object:
        return self.result.card.node


def result_url(result: SearchResult) -> str:
    node = result.card.node
    name = "frontend:topic" if node.kind == TOPIC else "frontend:content"
    return reverse(name, kwargs={"channel_id": node.channel_id, "node_id": node.id})


def page_link(query: QueryDict, page: int) -> str:
    params = query.copy()
    params["page"] = str(page)
    return "?" + params.urlencode()


@require_safe
@guest_or_signed_in
def search(request: HttpRequest) -> HttpResponse:
    channels = searchable_channels()
    context: dict[str, object] = {
        "q": request.GET.get("q", "").strip(), "kind": request.GET.get("kind", ""),
        "channel_id": request.GET.get("channel", ""), "kinds": CONTENT_KINDS,
        "channels": sorted(channels, key=lambda channel: channel.name.lower()),
    }
    if not context["q"]:
        # The empty form (the header box submitted blank): nothing to report yet.
        return render(request, "frontend/search.html", context)
    query = request.GET.copy()
    query.setdefault("page_size", str(PAGE_SIZE))
    try:
        params, page = run_search(query, channels)
    except ParseError as error:
        context["error"] = str(error.detail)
        return render(request, "frontend/search.html", context, status=400)
    last_shown = params.offset + len(page.results)
    context.update({
        "count": page.count,
        "first_shown": params.offset + 1,
        "last_shown": last_shown,
        "items": [ResultItem(result, result_url(result)) for result in page.results],
        "previous_link": page_link(query, params.page - 1) if params.page > 1 else None,
        "next_link": (page_link(query, params.page + 1)
                      if params.offset + params.page_size < page.count
                      and (params.page + 1) * params.page_size <= MAX_WINDOW else None),
    })
    return render(request, "frontend/search.html", context)
