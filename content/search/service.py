"""Search every servable channel's index, merge by relevance in Python, read the page's nodes.

    channels = [SearchableChannel(id, name, version), ...]     # servable ones, from the caller
    page = search_nodes(channels, SearchRequest(terms=("fractions",)), offset=0, limit=20)
    page.count, [result.card.node.title for result in page.results]

1. For each channel (or the one asked for), open its current version's index (built now if
   missing, at most LAZY_BUILDS_PER_SEARCH per search) and take its `window` best hits in the
   merge order, where `window = offset + limit` (at most MAX_WINDOW): enough to make the
   global first `window` exact, and bounded work per request (channels x window rows).
2. Merge in Python: every whole-word hit before every prefix-only hit; in each, title hits
   before description-only hits (content.search.query says why this is not left to bm25);
   then bm25, whose scores from different indexes are comparable enough (same formula and
   weights; idf differs per channel, favouring the channel where the word is rarer).
3. Read only the page's nodes from their own channel databases, one query per channel
   (content.search.cards), with the content API's cards (files, thumbnail, `available`).
"""

from __future__ import annotations

import heapq
import logging
import sqlite3
from collections import defaultdict
from dataclasses import dataclass

from content.search.cards import page_cards
from content.search.index import index_served_channel, search_index_path
from content.search.query import (
    IndexFilter,
    IndexQuery,
    SortKey,
    index_connection,
    keep_only_connections,
)
from content.selectors import NodeCard

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
    # Its best `window` are enough from each index: the global first `window` in one total
    # order are among the union of every channel's first `window` in that order.
    index_query = IndexQuery.build(list(request.terms),
                                   IndexFilter(kind=request.kind, lang=request.lang))
    count = 0
    keys: list[SortKey] = []
    wanted_connections = set()
    lazy_builds = 0
    for channel in searched:
        try:
            connection = index_connection(channel.id, channel.version)
        except sqlite3.OperationalError:
            # No index (yet): build it now, a few per search; the rest wait for the next.
            if lazy_builds >= LAZY_BUILDS_PER_SEARCH:
                logger.warning("channel %s is not indexed yet: left out of this search",
                               channel.id)
                continue
            lazy_builds += 1
            if index_served_channel(channel.id) != search_index_path(channel.id,
                                                                     channel.version):
                continue
            connection = index_connection(channel.id, channel.version)
        wanted_connections.add((channel.id, channel.version))
        try:
            channel_count, channel_keys = index_query.run(connection, channel.id, window)
        except sqlite3.DatabaseError as error:
            logger.warning("search index of %s v%s unreadable, left out: %s", channel.id,
                           channel.version, error)
            continue
        count += channel_count
        keys.extend(channel_keys)
    keep_only_connections(wanted_connections)
    best = [Hit(channel_id, node_id, lang, tier == 0, rank, not_in_title == 0)
            for tier, not_in_title, rank, channel_id, node_id, lang
            in heapq.nsmallest(window, keys)[offset:window]]
    names = {channel.id: channel.name for channel in searched}
    versions = {channel.id: channel.version for channel in channels}
    return SearchPage(count=count, results=_results(best, names, versions))


def _results(page: list[Hit], names: dict[str, str],
             versions: dict[str, int]) -> list[SearchResult]:
    """Cards for the page's hits, read from each hit's own channel, in the page's order.

    A hit whose node is not in the channel file any more (the index of the version the
    registry names, a moment before it names the new one) is left out.
    """
    by_channel: dict[str, list[str]] = defaultdict(list)
    for hit in page:
        by_channel[hit.channel_id].append(hit.node_id)
    cards = page_cards(by_channel, versions)
    return [SearchResult(hit, names.get(hit.channel_id, ""), cards[(hit.channel_id, hit.node_id)])
            for hit in page if (hit.channel_id, hit.node_id) in cards]
