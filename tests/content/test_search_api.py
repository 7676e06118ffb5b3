"""`GET /api/search/`: what it returns, its filters, pagination, and its 400s."""

from __future__ import annotations

import pytest

from channels.services import reject_channel
from routers.registry import channel_database_path
from storage.models import StoredFile
from storage.paths import storage_path
from tests.content.test_search_helpers import leaf, search, titles, tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def maths(make_channel):
    return make_channel("maths", root=tree(
        "maths",
        leaf("Fractions explained", "Halves and quarters", lang="en"),
        leaf("Fracciones", "Mitades y cuartos", lang="es"),
        leaf("Song of shapes", "Triangles", kind="audio", lang="en-GB")))


@pytest.fixture
def science(make_channel):
    return make_channel("science", root=tree(
        "science", leaf("Plant cells", "Fractions of a cell's volume", lang="en")))


def test_it_finds_nodes_in_every_channel_with_their_channel(client, maths, science):
    response = search(client, q="fractions")
    body = response.json()
    assert body["count"] == 2
    assert body["next"] is None and body["previous"] is None
    found = {result["title"]: result for result in body["results"]}
    assert set(found) == {"Fractions explained", "Plant cells"}
    explained = found["Fractions explained"]
    assert explained["channel_id"] == maths.channel_id
    assert explained["channel_name"] == "Maths"
    assert explained["kind"] == "document" and explained["lang"] == "en"
    assert explained["available"] is True
    assert explained["files"][0]["extension"] == "pdf"
    assert isinstance(explained["score"], float) and explained["match"] == "word"
    assert found["Plant cells"]["channel_name"] == "Science"


def test_a_resource_whose_file_is_missing_is_unavailable(client, maths):
    result = search(client, q="fractions").json()["results"][0]
    checksum = result["files"][0]["checksum"]
    storage_path(checksum, "pdf").unlink()
    StoredFile.objects.filter(checksum=checksum).delete()
    assert search(client, q="fractions").json()["results"][0]["available"] is False


def test_it_filters_by_kind_lang_and_channel(client, maths, science):
    assert titles(search(client, q="song", kind="audio")) == ["Song of shapes"]
    assert titles(search(client, q="song", kind="video")) == []
    assert titles(search(client, q="fra", lang="es")) == ["Fracciones"]
    # A base language also finds its regional variants.
    assert titles(search(client, q="song", lang="en")) == ["Song of shapes"]
    assert titles(search(client, q="song", lang="en-US")) == []
    assert titles(search(client, q="fractions", channel=science.channel_id)) == ["Plant cells"]


def test_a_rejected_channel_is_not_searched(client, maths, science):
    reject_channel(science.channel_id, channel_database_path(science.channel_id), "broken")
    assert titles(search(client, q="fractions")) == ["Fractions explained"]
    response = search(client, q="fractions", channel=science.channel_id)
    assert response.status_code == 400
    assert "no channel served here" in response.json()["detail"]


@pytest.mark.parametrize("params, message", [
    ({}, "`q` is required"),
    ({"q": "   "}, "`q` is required"),
    ({"q": "x" * 201}, "at most 200 characters"),
    ({"q": "*** ( ) - \""}, "no words"),
    ({"q": "a", "kind": "movie"}, "`kind` must be one of"),
    ({"q": "a", "lang": "en;drop"}, "`lang` must be a language code"),
    ({"q": "a", "channel": "ABC"}, "32 lowercase hex"),
    ({"q": "a", "channel": "0" * 31 + "\n"}, "32 lowercase hex"),
    ({"q": "a", "channel": "f" * 32}, "no channel served here"),
    ({"q": "a", "page": "0"}, "`page` must be a positive"),
    ({"q": "a", "page_size": "+5"}, "`page_size` must be a positive"),
    ({"q": "a", "page": "11", "page_size": "100"}, "first 1000 results"),
])
def test_it_rejects_bad_parameters_with_400(client, maths, params, message):
    response = client.get("/api/search/", params)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_it_pages_through_merged_results(client, make_channel):
    make_channel("one", root=tree("one", *(leaf(f"lesson {n}") for n in range(3))))
    make_channel("two", root=tree("two", *(leaf(f"lesson {n}") for n in range(3, 5))))
    first = search(client, q="lesson", page_size=2).json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["previous"] is None and "page=2" in first["next"]
    seen = [result["title"] for result in first["results"]]
    second = client.get(first["next"]).json()
    assert "page=3" in second["next"] and second["previous"] is not None
    seen += [result["title"] for result in second["results"]]
    third = client.get(second["next"]).json()
    assert third["next"] is None and "page=2" in third["previous"]
    seen += [result["title"] for result in third["results"]]
    assert sorted(seen) == [f"lesson {n}" for n in range(5)]
    assert search(client, q="lesson", page_size=2, page=4).status_code == 404


def test_pages_of_tied_results_neither_overlap_nor_skip(client, make_channel):
    # Six nodes with the same rank: each page must cut the ties the same way.
    make_channel("ties", channel_id="7" * 32,
                 root=tree("ties", *(leaf(f"lesson {n}") for n in range(6))))
    seen = [titles(search(client, q="lesson", page_size=1, page=page))[0]
            for page in range(1, 7)]
    assert sorted(seen) == [f"lesson {n}" for n in range(6)]
