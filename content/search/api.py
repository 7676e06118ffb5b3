"""`GET /api/search/?q=&kind=&lang=&channel=&page=&page_size=`: ranked nodes across channels.

Searches every servable channel (channels.selectors), each in its own index; rejected and
missing channels are never searched. The answer is paginated like the rest of the API:

    {"count": 42, "next": "...?page=2", "previous": null,
     "results": [{...node_json..., "channel_name": "Maths", "lang": "en",
                  "match": "word" | "prefix", "score": 12.3}]}

Order: nodes where every word was found whole (`match: "word"`) before those where some were
only the start of longer words (`"prefix"`); in each, nodes with a word in the title before
those with them in the description only; then `score` (bm25 relevance, higher first).
"""

from __future__ import annotations

from typing import Any, Mapping

from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from django.utils.translation import gettext

from channels.models import Channel
from content.search.filters import SearchParams, parse_search_params
from content.search.service import MAX_WINDOW, SearchableChannel, SearchPage, SearchResult, search_nodes
from content.serializers import node_json


def searchable_channels() -> list[SearchableChannel]:
    """The servable channels (the registry's `servable()`, as channels.selectors), as plain
    values: loading 100 model instances per search cost more than searching them."""
    return [SearchableChannel(*row) for row in
            Channel.objects.servable().values_list("id", "name", "version")]


def run_search(query_params: Mapping[str, str],
               channels: list[SearchableChannel] | None = None) -> tuple[SearchParams,
                                                                          SearchPage]:
    """Check the parameters (ParseError: 400) and search; shared by the API and the page."""
    if channels is None:
        channels = searchable_channels()
    params = parse_search_params(query_params, {channel.id for channel in channels})
    page = search_nodes(channels, params.request, offset=params.offset,
                        limit=params.page_size)
    return params, page


def search_result_json(result: SearchResult) -> dict[str, Any]:
    data = node_json(result.card)
    data["channel_name"] = result.channel_name
    data["lang"] = result.hit.lang
    data["match"] = "word" if result.hit.whole_word else "prefix"
    data["score"] = result.hit.score
    return data


class SearchView(APIView):
    """Thin: check, search, serialize."""

    def get(self, request: Request) -> Response:
        params, page = run_search(request.query_params)
        if params.page > 1 and params.offset >= page.count:
            raise NotFound(gettext("Invalid page."))
        url = request.build_absolute_uri()
        has_next = (params.offset + params.page_size < page.count
                    and (params.page + 1) * params.page_size <= MAX_WINDOW)
        previous = None
        if params.page == 2:
            previous = remove_query_param(url, "page")
        elif params.page > 2:
            previous = replace_query_param(url, "page", params.page - 1)
        return Response({
            "count": page.count,
            "next": replace_query_param(url, "page", params.page + 1) if has_next else None,
            "previous": previous,
            "results": [search_result_json(result) for result in page.results],
        })
