"""User text to FTS5 expressions, and the queries on one channel's index.

User text is never passed as FTS5 syntax. It is cut into words (runs of letters, digits and
combining marks, the tokenizer's word characters), and each word is written as a quoted
string, so `"`, `*`, `NEAR`, `OR`, `-` and parentheses are only text:

    terms = query_terms('fractions "NEAR" (half)')   # ['fractions', 'NEAR', 'half']
    whole_word_expression(terms)                      # '"fractions" "NEAR" "half"'
    prefix_expression(terms)                          # '"fractions"* "NEAR"* "half"*'

Both expressions require every word (FTS5's implicit AND). A node matching the whole words
ranks above one that only matches them as prefixes; within each group, a node with a word in
its title above one with them in its description only; then bm25, titles weighted above
descriptions. The title test is explicit, not left to bm25 alone: bm25's idf depends on each
channel's own index and drops to almost nothing for a word in half of a channel's nodes, so
a title match in a channel about that word would rank below a passing mention elsewhere.

Connections to index files are kept per thread (an index never changes once in place: its
path names an immutable version) and closed when the channel or version is no longer searched.
"""

from __future__ import annotations

import sqlite3
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from content.search.index import open_read_only, search_index_path

MAX_TERMS = 8
# bm25 weights per column: a word in the title counts ten times one in the description.
TITLE_WEIGHT = 10.0
DESCRIPTION_WEIGHT = 1.0
# Above this, the least recently used connections of the thread are closed.
CONNECTIONS_PER_THREAD = 256
WORD_CATEGORIES = ("L", "N", "M", "Co")
INDEX_CACHE_KIB = 64
INDEX_MMAP_BYTES = 64 * 1024 * 1024

_thread_state = threading.local()


# One hit as the merge compares it: (0 whole word / 1 prefix only, 0 a word in the title /
# 1 in the description only, bm25 (more negative is more relevant), channel id, node id,
# lang). SQLite returns these tuples as they are: a search reads thousands of rows across
# channels, and building an object per row was a tenth of a request.
SortKey = tuple[int, int, float, str, str, "str | None"]


@dataclass(frozen=True)
class IndexFilter:
    kind: str | None = None
    lang: str | None = None


def query_terms(text: str) -> list[str]:
    """The words of `text` (NFC), in order, without repeats, at most MAX_TERMS."""
    words: list[str] = []
    current: list[str] = []
    for character in unicodedata.normalize("NFC", text) + " ":
        if unicodedata.category(character).startswith(WORD_CATEGORIES):
            current.append(character)
        elif current:
            words.append("".join(current))
            current = []
    unique = list(dict.fromkeys(words))
    return unique[:MAX_TERMS]


def _quoted(term: str) -> str:
    # Terms hold word characters only, but doubling quotes keeps this safe on its own.
    return '"' + term.replace('"', '""') + '"'


def whole_word_expression(terms: list[str]) -> str:
    return " ".join(_quoted(term) for term in terms)


def prefix_expression(terms: list[str]) -> str:
    return " ".join(_quoted(term) + "*" for term in terms)


def _where(expression: str, index_filter: IndexFilter) -> tuple[str, list[object]]:
    clause = "node_search MATCH ?"
    parameters: list[object] = [expression]
    if index_filter.kind is not None:
        clause += " AND kind = ?"
        parameters.append(index_filter.kind)
    if index_filter.lang is not None:
        # "en" also finds "en-GB"; "en-GB" finds only itself.
        clause += " AND (lang = ? OR lang LIKE ?)"
        parameters += [index_filter.lang, index_filter.lang + "-%"]
    return clause, parameters


@dataclass(frozen=True)
class IndexQuery:
    """One search's SQL, built once and run on every channel's index.

    One query per index: the prefix expression finds every match (a whole word is also a
    prefix of itself); a subquery on the whole-word expression marks the better tier
    (measured: a quarter faster than two ranked queries). bm25 with a zero weight on the
    description is below zero exactly when a term is in the title (FTS5's idf is at least
    1e-6, never zero). node_id comes last in the order, as in the merge: rows tied on rank
    must be cut by LIMIT the same way for every page size, or pages overlap and skip nodes.

        query = IndexQuery.build(["fractions"], IndexFilter(kind="video"))
        count, keys = query.run(connection, channel_id, limit=20)
    """

    ranked_sql: str
    count_sql: str
    whole_words: str
    where_parameters: tuple[object, ...]

    @classmethod
    def build(cls, terms: list[str], index_filter: IndexFilter) -> IndexQuery:
        clause, parameters = _where(prefix_expression(terms), index_filter)
        ranked_sql = (
            "SELECT 1 - (rowid IN (SELECT rowid FROM node_search WHERE node_search MATCH ?)) "
            "AS tier, 1 - (bm25(node_search, 1.0, 0.0) < 0) AS not_in_title, "
            f"bm25(node_search, {TITLE_WEIGHT}, {DESCRIPTION_WEIGHT}) AS rank, ?, node_id, "
            f"lang FROM node_search WHERE {clause} "
            "ORDER BY tier, not_in_title, rank, node_id LIMIT ?")
        return cls(ranked_sql=ranked_sql,
                   count_sql=f"SELECT count(*) FROM node_search WHERE {clause}",
                   whole_words=whole_word_expression(terms),
                   where_parameters=tuple(parameters))

    def run(self, connection: sqlite3.Connection, channel_id: str,
            limit: int) -> tuple[int, list[SortKey]]:
        """(matches in this index, its `limit` best as merge keys)."""
        keys = connection.execute(self.ranked_sql, (self.whole_words, channel_id,
                                                    *self.where_parameters, limit)).fetchall()
        if len(keys) < limit:
            return len(keys), keys
        return int(connection.execute(self.count_sql, self.where_parameters).fetchone()[0]), keys


def index_connection(channel_id: str, version: int) -> sqlite3.Connection:
    """This thread's read-only connection to the version's index (opened on first use).

    Raises sqlite3.OperationalError when the index file does not exist.
    """
    connections = _connections()
    key = (channel_id, version)
    connection = connections.get(key)
    if connection is None:
        connection = open_read_only(search_index_path(channel_id, version), immutable=True)
        # Every server thread keeps a connection per channel: with SQLite's default 2 MB page
        # cache each, 16 threads x 100 channels could hold gigabytes of copies of the same
        # pages. A small cache plus a memory map reads them from the OS page cache, shared
        # (measured: about 15% slower per query than the default cache, fully warm).
        connection.execute(f"PRAGMA cache_size = -{INDEX_CACHE_KIB}")
        connection.execute(f"PRAGMA mmap_size = {INDEX_MMAP_BYTES}")
        connections[key] = connection
        while len(connections) > CONNECTIONS_PER_THREAD:
            _key, oldest = connections.popitem(last=False)
            oldest.close()
    else:
        connections.move_to_end(key)
    return connection


def keep_only_connections(wanted: set[tuple[str, int]]) -> None:
    """Close this thread's index connections that are not in `wanted`: a deleted channel's or
    a replaced version's (an open file keeps its disk space, and cannot be deleted on Windows)."""
    close_connections_where(_thread_state, lambda key: key not in wanted)


def forget_connections(channel_id: str) -> None:
    """Close this thread's connections to the channel's indexes (before they are removed)."""
    close_connections_where(_thread_state, lambda key: key[0] == channel_id)


def thread_connections(state: threading.local) -> OrderedDict[tuple[str, int], sqlite3.Connection]:
    """This thread's connections kept in `state`, by (channel id, version), oldest used first."""
    connections = getattr(state, "connections", None)
    if connections is None:
        connections = OrderedDict()
        state.connections = connections
    return connections


def close_connections_where(state: threading.local,
                            should_close: Callable[[tuple[str, int]], bool]) -> None:
    connections = thread_connections(state)
    for key in [key for key in connections if should_close(key)]:
        connections.pop(key).close()


def _connections() -> OrderedDict[tuple[str, int], sqlite3.Connection]:
    return thread_connections(_thread_state)
