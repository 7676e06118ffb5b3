"""Search every servable channel's index, merge by relevance in Python, read the page's nodes.

    channels = [SearchableChannel(id, name, version), ...]     # servable ones, from the caller
    page = search_nodes(channels, SearchRequest(terms=("fractions",)), offset=0, limit=20)
    page.count, [result.card.node.title for result in page.results]

1. For each channel (or the one asked for), open its current version's index (built now if
   missing, at most LAZY_BUILDS_PER_SEARCH per search) and take its `window` best whole-word
   hits and its `window` best prefix-only hits, where `window = offset + limit` (at most
   MAX_WINDOW): enough to make the global first `window` exact, and bounded work per request.
2. Merge in Python: every whole-word hit before every prefix-only hit; in each, title hits
   before description-only hits (content.search.query says why this is not left to bm25);
   then bm25, whose scores from different indexes are comparable enough (same formula and
   weights; idf differs per channel, favouring the channel where the word is rarer).
3. Read only the page's nodes from their own channel databases, one channel at a time
   (`using_content_database`), with the content API's cards (files, thumbnail, `available`).
"""

from __future__ import annotations

import heapq
import logging
import sqlite3
from collections import defaultdict
from dataclasses import dataclass

from content.models import ContentNode
from content.search.index import index_served_channel, search_index_path
from content.search.query import (
    IndexFilter,
    IndexHit,
    index_connection,
    keep_only_connections,
    match_count,
    prefix_expression,
    ranked_hits,
    whole_word_expression,
)
from content.selectors import NODE_ROW_FIELDS, NodeCard, node_cards
from routers.context import using_content_database
from routers.errors import ChannelDatabaseNotFoundError

logger = logging.getLogger(__name__)

MAX_WINDOW = 1000
# A channel without an index is indexed on the spot, a few per search so one request stays
# short; start-up (`scanchannels`) and installs index the rest.
LAZY_BUILDS_PER_SEARCH = 2


@dataclass(frozen=True)
class SearchableChannel:
    id: str
    name: str
    version: int


@dataclass(frozen=True)
class SearchRequest:
    terms: tuple[str, ...]
    kind: str | None = None
    lang: str | None = None
    channel_id: str | None = None


@dataclass(frozen=True)
class Hit:
    channel_id: str
    node_id: str
    lang: str | None
    whole_word: bool
    rank: float
    in_title: bool

    @property
    def score(self) -> float:
        """bm25 relevance, higher is better (FTS5 gives it negated)."""
        return round(-self.rank, 4)

    def sort_key(self) -> tuple[int, int, float, str, str]:
        return (0 if self.whole_word else 1, 0 if self.in_title else 1, self.rank,
                self.channel_id, self.node_id)


@dataclass(frozen=True)
class SearchResult:
    hit: Hit
    channel_name: str
    card: NodeCard


@dataclass(frozen=True)
class SearchPage:
    count: int
    results: list[SearchResult]


def search_nodes(channels: list[SearchableChannel], request: SearchRequest, *, offset: int,
                 limit: int) -> SearchPage:
    window = offset + limit
    if window > MAX_WINDOW:
        raise ValueError(f"offset + limit must be at most {MAX_WINDOW}")
    searched = [channel for channel in channels
                if request.channel_id is None or channel.id == request.channel_id]
    count = 0
    hits: list[Hit] = []
    wanted_connections = set()
    lazy_builds = 0
    for channel in searched:
        path = search_index_path(channel.id, channel.version)
        if not path.is_file():
            if lazy_builds >= LAZY_BUILDS_PER_SEARCH:
                logger.warning("channel %s is not indexed yet: left out of this search",
                               channel.id)
                continue
            lazy_builds += 1
            index_served_channel(channel.id)
            if not path.is_file():
                continue
        wanted_connections.add((channel.id, path))
        try:
            channel_count, channel_hits = _search_one_index(channel.id, path, request, window)
        except sqlite3.DatabaseError as error:
            logger.warning("search index %s unreadable, left out: %s", path, error)
            continue
        count += channel_count
        hits.extend(channel_hits)
    keep_only_connections(wanted_connections)
    best = heapq.nsmallest(window, hits, key=Hit.sort_key)
    names = {channel.id: channel.name for channel in searched}
    return SearchPage(count=count, results=_results(best[offset:window], names))


def _search_one_index(channel_id: str, path: object, request: SearchRequest,
                      window: int) -> tuple[int, list[Hit]]:
    """(matches in this channel, its `window` best whole-word and prefix-only hits)."""
    connection = index_connection(channel_id, path)  # type: ignore[arg-type]
    index_filter = IndexFilter(kind=request.kind, lang=request.lang)
    terms = list(request.terms)
    whole = ranked_hits(connection, whole_word_expression(terms), index_filter, window)
    whole_ids = {hit.node_id for hit in whole}
    # Every whole-word match is also a prefix match: ask for enough to skip those.
    prefix_limit = window + len(whole)
    prefix = ranked_hits(connection, prefix_expression(terms), index_filter, prefix_limit)
    if len(prefix) < prefix_limit:
        count = len(prefix)
    else:
        count = match_count(connection, prefix_expression(terms), index_filter)
    prefix_only = [hit for hit in prefix if hit.node_id not in whole_ids][:window]
    return count, [*_hits(channel_id, whole, True), *_hits(channel_id, prefix_only, False)]


def _hits(channel_id: str, index_hits: list[IndexHit], whole_word: bool) -> list[Hit]:
    return [Hit(channel_id, hit.node_id, hit.lang, whole_word, hit.rank, hit.in_title)
            for hit in index_hits]


def _results(page: list[Hit], names: dict[str, str]) -> list[SearchResult]:
    """Cards for the page's hits, read from each hit's own channel, in the page's order.

    A hit whose node is not in the channel file any more (the index of the version the
    registry names, a moment before it names the new one) is left out.
    """
    by_channel: dict[str, list[str]] = defaultdict(list)
    for hit in page:
        by_channel[hit.channel_id].append(hit.node_id)
    cards: dict[tuple[str, str], NodeCard] = {}
    for channel_id, node_ids in by_channel.items():
        try:
            with using_content_database(channel_id):
                rows = list(ContentNode.objects.filter(id__in=node_ids)
                            .values_list(*NODE_ROW_FIELDS))
                for card in node_cards(rows):
                    cards[(channel_id, card.id)] = card
        except ChannelDatabaseNotFoundError:
            continue
    return [SearchResult(hit, names.get(hit.channel_id, ""), cards[(hit.channel_id, hit.node_id)])
            for hit in page if (hit.channel_id, hit.node_id) in cards]
