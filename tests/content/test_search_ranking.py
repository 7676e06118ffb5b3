"""Ranking and query safety of `/api/search/`: titles above descriptions, whole words above
prefixes, accents and case folded, and FTS5 syntax in the user's text treated as words."""

from __future__ import annotations

import pytest

from content.search.query import prefix_expression, query_terms, whole_word_expression
from tests.content.test_search_helpers import leaf, search, titles, tree

pytestmark = pytest.mark.django_db


def test_a_title_match_ranks_above_a_description_match(client, make_channel):
    make_channel("one", root=tree("one", leaf("Rivers of Europe", "About volcanoes")))
    make_channel("two", root=tree("two", leaf("Mountains", "Volcano and volcanoes, volcanoes")))
    make_channel("three", root=tree("three", leaf("Volcanoes", "Lava")))
    assert titles(search(client, q="volcanoes")) == ["Volcanoes", "Mountains",
                                                     "Rivers of Europe"]


def test_a_whole_word_ranks_above_a_prefix_fragment(client, make_channel):
    # The fragment is in a title and the whole word only in a description: still second.
    make_channel("one", root=tree("one", leaf("Cathedrals and catholic art")))
    make_channel("two", root=tree("two", leaf("Animals", "The cat sleeps")))
    body = search(client, q="cat").json()
    assert [(result["title"], result["match"]) for result in body["results"]] == [
        ("Animals", "word"), ("Cathedrals and catholic art", "prefix")]


def test_every_word_must_match(client, make_channel):
    make_channel("one", root=tree("one", leaf("Solar system"), leaf("Solar panels"),
                                  leaf("Panel discussion")))
    assert titles(search(client, q="solar panel")) == ["Solar panels"]


def test_accents_and_case_are_folded_both_ways(client, make_channel):
    make_channel("one", root=tree("one", leaf("Équations du second degré"),
                                  leaf("ecole primaire"), leaf("हिन्दी भाषा")))
    assert titles(search(client, q="equations")) == ["Équations du second degré"]
    assert titles(search(client, q="DEGRE")) == ["Équations du second degré"]
    assert titles(search(client, q="École")) == ["ecole primaire"]
    # Decomposed (e + combining acute) is the same word as the composed one.
    assert titles(search(client, q="e\u0301cole")) == ["ecole primaire"]
    # Vowel signs belong to the word, so a Hindi word is found whole, and by its start.
    assert titles(search(client, q="हिन्दी")) == ["हिन्दी भाषा"]
    assert titles(search(client, q="भा")) == ["हिन्दी भाषा"]


@pytest.mark.parametrize("text", [
    '"', '"fish', 'fish"', "fish*", "*", "NEAR", "NEAR(fish river)", "fish OR river",
    "fish AND river", "NOT fish", "-fish", "fish -river", "(fish", "fish)", "title:fish",
    "^fish", "fish + river", "{title}: fish", "'; DROP TABLE node_search; --",
])
def test_fts_syntax_in_the_text_is_only_words(client, make_channel, text):
    make_channel("one", root=tree("one", leaf("Fish of the river"), leaf("NEAR the sea"),
                                  leaf("Fishing OR hunting")))
    response = search(client, q=text)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert "no words" in response.json()["detail"]
        assert query_terms(text) == []


def test_operator_words_are_searched_as_words(client, make_channel):
    make_channel("one", root=tree("one", leaf("Fish of the river"), leaf("NEAR the sea"),
                                  leaf("Fishing OR hunting")))
    assert titles(search(client, q="NEAR")) == ["NEAR the sea"]
    # "OR" is a word that must be present, not an alternative.
    assert titles(search(client, q="fish OR river")) == []
    assert titles(search(client, q="fishing OR")) == ["Fishing OR hunting"]
    assert titles(search(client, q="-fish")) == ["Fish of the river", "Fishing OR hunting"]


def test_query_terms_are_quoted_words():
    terms = query_terms('fractions "NEAR" (half) fractions* -x_y')
    assert terms == ["fractions", "NEAR", "half", "x", "y"]
    assert whole_word_expression(terms) == '"fractions" "NEAR" "half" "x" "y"'
    assert prefix_expression(["a"]) == '"a"*'
    assert len(query_terms(" ".join(f"w{n}" for n in range(20)))) == 8


def test_a_title_match_wins_even_where_the_word_is_common(client, make_channel):
    # In "algebra", "equations" is in most nodes, so bm25's idf there is almost zero; a
    # description that mentions it in another channel must still come after its titles.
    make_channel("algebra", root=tree("algebra", leaf("Linear equations"),
                                      leaf("Quadratic equations"), leaf("Equations quiz")))
    make_channel("physics", root=tree("physics", leaf("Motion", "Uses equations")))
    assert titles(search(client, q="equations"))[-1] == "Motion"
