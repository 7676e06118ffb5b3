"""The learners' search page `/search/` (frontend/search_views.py) and the header's box."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.content.test_search_helpers import leaf, tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def channels(make_channel):
    maths = make_channel("maths", root=tree("maths", leaf("Fractions explained", "Halves"),
                                            leaf("Fraction song", kind="audio")))
    science = make_channel("science", root=tree("science", leaf("Cells", "Fractions of cells")))
    return maths, science


def test_every_page_has_the_search_box(client, channels):
    page = client.get("/").content.decode()
    assert 'action="/search/"' in page and 'name="q"' in page


def test_it_lists_results_with_channel_kind_and_links(client, channels):
    maths, science = channels
    response = client.get("/search/", {"q": "fraction"})
    assert response.status_code == 200
    page = response.content.decode()
    items = response.context["items"]
    # The whole word first, then the prefix matches (a title above a description).
    assert [item.node.title for item in items] == ["Fraction song", "Fractions explained",
                                                   "Cells"]
    explained = items[1]
    assert explained.url == (f"/channels/{maths.channel_id}/content/{explained.node.id}/")
    assert f'href="{explained.url}"' in page
    assert "Maths" in page and "Science" in page and "document" in page
    assert "3 results for “fraction”" in page
    assert client.get(explained.url).status_code == 200


def test_a_topic_links_to_its_topic_page(client, channels):
    maths, _science = channels
    item = client.get("/search/", {"q": "maths unit"}).context["items"][0]
    assert item.url == f"/channels/{maths.channel_id}/topics/{item.node.id}/"
    assert client.get(item.url).status_code == 200


def test_it_filters_by_kind_and_channel(client, channels):
    maths, science = channels
    response = client.get("/search/", {"q": "fraction", "kind": "audio"})
    assert [item.node.title for item in response.context["items"]] == ["Fraction song"]
    assert '<option value="audio" selected>' in response.content.decode()
    response = client.get("/search/", {"q": "fractions", "channel": science.channel_id})
    assert [item.node.title for item in response.context["items"]] == ["Cells"]


def test_a_bad_filter_shows_the_reason(client, channels):
    response = client.get("/search/", {"q": "fractions", "kind": "movie"})
    assert response.status_code == 400
    assert "`kind` must be one of" in response.content.decode()


def test_an_empty_query_shows_the_form_only(client, channels):
    response = client.get("/search/", {"q": "  "})
    assert response.status_code == 200
    assert "items" not in response.context and "error" not in response.context


def test_it_pages_with_the_filters_kept(client, make_channel):
    make_channel("many", root=tree("many", *(leaf(f"lesson {n}") for n in range(25))))
    response = client.get("/search/", {"q": "lesson", "kind": "document"})
    assert len(response.context["items"]) == 20
    next_link = response.context["next_link"]
    assert "kind=document" in next_link and "page=2" in next_link
    second = client.get("/search/" + next_link)
    assert len(second.context["items"]) == 5 and second.context["next_link"] is None


@override_settings(ALLOW_GUEST_ACCESS=False)
def test_guests_sign_in_first_when_guest_access_is_off(client, channels):
    response = client.get("/search/", {"q": "fractions"})
    assert response.status_code == 302 and "/login" in response["Location"]
