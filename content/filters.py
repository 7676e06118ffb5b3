"""Query-string filters of the content API, checked before any query runs.

Malformed values answer 400 `{"detail": ...}` rather than an empty list: a client that sends
`parent=ABC` has a bug, and an empty page would hide it. Ids are checked with `re.fullmatch`
against 32 lowercase hex (DESIGN.md, invariant 6), never `uuid.UUID` or `int(x, 16)`.

    node_filter = parse_node_filter(request.query_params)   # raises ParseError (400)
    nodes = list_nodes(node_filter)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from rest_framework.exceptions import ParseError

from django.utils.translation import gettext

from content.constants import CONTENT_KINDS

NODE_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
# Long enough for any title words, short enough that a LIKE scan stays cheap.
MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True)
class NodeFilter:
    """What `GET .../contentnode/` was asked for; `None` means "not filtered by this"."""

    parent: str | None = None
    kind: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class FileFilter:
    contentnode: str | None = None


def is_valid_node_id(value: object) -> bool:
    return isinstance(value, str) and NODE_ID_PATTERN.fullmatch(value) is not None


def _node_id_param(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not is_valid_node_id(value):
        raise ParseError(gettext("`%(name)s` must be a node id: 32 lowercase hex characters.")
                         % {"name": name})
    return value


def parse_node_filter(params: Mapping[str, str]) -> NodeFilter:
    """Check `parent`, `kind` and `search`; an empty `search` is the same as none."""
    kind = params.get("kind")
    if kind is not None and kind not in CONTENT_KINDS:
        raise ParseError(gettext("`kind` must be one of: %(kinds)s.")
                         % {"kinds": ", ".join(CONTENT_KINDS)})
    search = params.get("search")
    if search is not None:
        search = search.strip()
        if len(search) > MAX_SEARCH_LENGTH:
            raise ParseError(gettext("`search` may have at most %(count)s characters.")
                             % {"count": MAX_SEARCH_LENGTH})
    return NodeFilter(parent=_node_id_param(params, "parent"), kind=kind,
                      search=search or None)


def parse_file_filter(params: Mapping[str, str]) -> FileFilter:
    return FileFilter(contentnode=_node_id_param(params, "contentnode"))
