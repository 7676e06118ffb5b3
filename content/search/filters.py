"""The query string of a search (`q`, `kind`, `lang`, `channel`, `page`, `page_size`), checked
before any index is opened. Bad values raise ParseError (400) with a message that says what is
accepted; the learners' page shows the same message.

    params = parse_search_params(request.query_params, servable_ids)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from rest_framework.exceptions import ParseError

from django.utils.translation import gettext

from content.constants import CONTENT_KINDS
from content.search.query import query_terms
from content.search.service import MAX_WINDOW, SearchRequest
from routers.ids import is_valid_channel_id

MAX_QUERY_LENGTH = 200
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# BCP 47 as Kolibri stores it: "en", "es-419", "pt-BR", "zh-Hans".
LANG_PATTERN = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}")


@dataclass(frozen=True)
class SearchParams:
    text: str
    request: SearchRequest
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def parse_search_params(params: Mapping[str, str], servable_ids: set[str]) -> SearchParams:
    text = (params.get("q") or "").strip()
    if not text:
        raise ParseError(gettext("`q` is required: the words to search for."))
    if len(text) > MAX_QUERY_LENGTH:
        raise ParseError(gettext("`q` may have at most %(count)s characters.")
                         % {"count": MAX_QUERY_LENGTH})
    terms = query_terms(text)
    if not terms:
        raise ParseError(gettext("`q` has no words to search for (letters or digits)."))
    kind = params.get("kind") or None
    if kind is not None and kind not in CONTENT_KINDS:
        raise ParseError(gettext("`kind` must be one of: %(kinds)s.")
                         % {"kinds": ", ".join(CONTENT_KINDS)})
    lang = params.get("lang") or None
    if lang is not None and LANG_PATTERN.fullmatch(lang) is None:
        raise ParseError(gettext("`lang` must be a language code such as en, es-419 or pt-BR."))
    channel_id = params.get("channel") or None
    if channel_id is not None:
        if not is_valid_channel_id(channel_id):
            raise ParseError(gettext("`channel` must be a channel id: 32 lowercase hex "
                                     "characters."))
        if channel_id not in servable_ids:
            raise ParseError(gettext("`channel` names no channel served here. See "
                                     "/api/channels/."))
    page = _positive_int(params, "page", 1)
    page_size = min(_positive_int(params, "page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    if page * page_size > MAX_WINDOW:
        raise ParseError(gettext("Only the first %(count)s results can be paged through; add "
                                 "words or filters to narrow the search.")
                         % {"count": MAX_WINDOW})
    return SearchParams(text=text, page=page, page_size=page_size,
                        request=SearchRequest(terms=tuple(terms), kind=kind, lang=lang,
                                              channel_id=channel_id))


def _positive_int(params: Mapping[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    # Not int(): it accepts " 1", "+1", "1_0" and non-ASCII digits.
    if re.fullmatch(r"[0-9]{1,6}", value) is None or int(value) < 1:
        raise ParseError(gettext("`%(name)s` must be a positive whole number.") % {"name": name})
    return int(value)
