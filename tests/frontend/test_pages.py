"""The learner pages through Django's test client, on channel databases built for real."""

from __future__ import annotations

import re

import pytest

from frontend import selectors
from tests.frontend.channels import (
    AUDIO_ID,
    CHANNEL_THUMBNAIL,
    EMPTY_VIDEO_ID,
    EXERCISE_ID,
    EXTRAS_ID,
    LESSONS_ID,
    PDF_ID,
    ROOT_ID,
    VIDEO_ID,
    build_media_channel,
)

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def test_home_lists_every_channel_with_its_details(client, make_channel):
    numbers = build_media_channel(make_channel)
    letters = make_channel("letters")
    html = page_text(client.get("/"))
    assert "Numbers" in html and "Letters" in html
    assert "Learn to count." in html
    assert f'href="/channels/{numbers.channel_id}/"' in html
    assert f'href="/channels/{letters.channel_id}/"' in html
    assert "8 items" in html  # root, 2 topics, 5 leaves
    assert "version 1 (spring term)" in html
    assert f'src="{CHANNEL_THUMBNAIL}"' in html


def test_home_says_when_no_channel_is_installed(client):
    assert "No channels are installed" in page_text(client.get("/"))


def test_home_never_shows_a_thumbnail_that_is_not_an_image_data_uri():
    assert selectors.safe_thumbnail("javascript:alert(1)") is None
    assert selectors.safe_thumbnail("http://example.com/a.png") is None
    assert selectors.safe_thumbnail(CHANNEL_THUMBNAIL) == CHANNEL_THUMBNAIL


def test_channel_page_shows_the_root_topics_in_sort_order(client, make_channel):
    channel = build_media_channel(make_channel)
    html = page_text(client.get(f"/channels/{channel.channel_id}/"))
    assert html.index(">Lessons<") < html.index(">Extras<")
    assert f'href="/channels/{channel.channel_id}/topics/{LESSONS_ID}/"' in html
    assert "Learn to count." in html
    breadcrumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
    assert 'href="/"' in breadcrumbs and 'aria-current="page">Numbers<' in breadcrumbs


def test_topic_page_shows_children_as_cards_with_breadcrumbs(client, make_channel):
    channel = build_media_channel(make_channel)
    html = page_text(client.get(f"/channels/{channel.channel_id}/topics/{LESSONS_ID}/"))
    titles = ["Counting to ten", "Counting song", "Counting worksheet"]
    positions = [html.index(title) for title in titles]
    assert positions == sorted(positions)
    for node_id in (VIDEO_ID, AUDIO_ID, PDF_ID):
        assert f'href="/channels/{channel.channel_id}/content/{node_id}/"' in html
    assert "card--video" in html and "card--audio" in html and "card--document" in html
    # The video's own thumbnail, served from the store.
    assert re.search(r'<img class="card__thumb" src="/content/storage/[0-9a-f]/[0-9a-f]/'
                     r'[0-9a-f]{32}\.png"', html)
    breadcrumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
    assert f'href="/channels/{channel.channel_id}/">Numbers</a>' in breadcrumbs
    assert 'aria-current="page">Lessons<' in breadcrumbs


def test_topic_page_pages_long_listings(client, make_channel, monkeypatch):
    monkeypatch.setattr(selectors, "CARDS_PER_PAGE", 2)
    channel = build_media_channel(make_channel)
    first = page_text(client.get(f"/channels/{channel.channel_id}/topics/{LESSONS_ID}/"))
    second = page_text(client.get(f"/channels/{channel.channel_id}/topics/{LESSONS_ID}/?page=2"))
    assert "Counting song" in first and "Counting worksheet" not in first
    assert "Counting worksheet" in second and "Page 2 of 2" in second


def test_a_leaf_under_the_topic_url_redirects_to_its_content_page(client, make_channel):
    channel = build_media_channel(make_channel)
    response = client.get(f"/channels/{channel.channel_id}/topics/{VIDEO_ID}/")
    assert response.status_code == 302
    assert response["Location"] == f"/channels/{channel.channel_id}/content/{VIDEO_ID}/"
    response = client.get(f"/channels/{channel.channel_id}/content/{LESSONS_ID}/")
    assert response["Location"] == f"/channels/{channel.channel_id}/topics/{LESSONS_ID}/"
    response = client.get(f"/channels/{channel.channel_id}/topics/{ROOT_ID}/")
    assert response["Location"] == f"/channels/{channel.channel_id}/"


def test_video_page_lists_sources_in_order_with_caption_tracks(client, make_channel):
    channel = build_media_channel(make_channel)
    html = page_text(client.get(f"/channels/{channel.channel_id}/content/{VIDEO_ID}/"))
    assert "<h1>Counting to ten</h1>" in html and "Count along with the video." in html
    video = re.search(r"<video .*?</video>", html, re.S).group(0)
    assert "controls" in video and re.search(r'poster="/content/storage/.+\.png"', video)
    sources = re.findall(r'<source src="(/content/storage/[^"]+)" type="([^"]+)">', video)
    assert [(url.rsplit(".", 1)[1], mime) for url, mime in sources] == [
        ("mp4", "video/mp4"), ("webm", "video/webm"), ("ogv", "video/ogg")]
    tracks = re.findall(r"<track [^>]*>", video)
    assert len(tracks) == 2
    assert re.search(r'kind="captions" src="/content/storage/.+\.vtt" srclang="en" '
                     r'label="English" default', tracks[0])
    assert 'srclang="fr"' in tracks[1] and 'label="Français"' in tracks[1]
    assert "default" not in tracks[1]
    breadcrumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
    assert ">Numbers</a>" in breadcrumbs and ">Lessons</a>" in breadcrumbs
    assert "Download MP4" in html


def test_audio_page_has_an_audio_player(client, make_channel):
    channel = build_media_channel(make_channel)
    html = page_text(client.get(f"/channels/{channel.channel_id}/content/{AUDIO_ID}/"))
    audio = re.search(r"<audio .*?</audio>", html, re.S).group(0)
    assert "controls" in audio
    assert re.search(r'<source src="/content/storage/.+\.mp3" type="audio/mpeg">', audio)


def test_pdf_page_shows_the_document_in_the_page_and_a_download_link(client, make_channel):
    channel = build_media_channel(make_channel)
    html = page_text(client.get(f"/channels/{channel.channel_id}/content/{PDF_ID}/"))
    embedded = re.search(r'<object class="player__pdf" data="(/content/storage/[^"]+\.pdf)" '
                         r'type="application/pdf"', html)
    assert embedded
    assert f'<a href="{embedded.group(1)}" download>Download PDF</a>' in html


def test_a_kind_without_a_player_offers_a_download(client, make_channel):
    from channels.builder import FileSpec, NodeSpec

    archive = NodeSpec(id="2" * 32, title="A wiki", kind="zim",
                       files=[FileSpec(preset="zim", extension="zim", source=b"ZIM bytes")])
    channel = make_channel("wikis", root=NodeSpec(title="Wikis", children=[archive]))
    html = page_text(client.get(f"/channels/{channel.channel_id}/content/{'2' * 32}/"))
    assert "cannot play here yet" in html
    assert re.search(r'<a href="/content/storage/.+\.zim" download>', html)


def test_an_exercise_page_holds_the_test_player(client, make_channel, learner_user):
    channel = build_media_channel(make_channel)
    url = f"/channels/{channel.channel_id}/content/{EXERCISE_ID}/"
    assert "Sign in to take this test" in page_text(client.get(url))
    client.force_login(learner_user)
    html = page_text(client.get(url))
    assert "data-test-player" in html
    assert f"/api/content/{channel.channel_id}/contentnode/{EXERCISE_ID}/questions/" in html


def test_a_node_without_files_says_it_is_not_available(client, make_channel):
    channel = build_media_channel(make_channel)
    html = page_text(client.get(f"/channels/{channel.channel_id}/content/{EMPTY_VIDEO_ID}/"))
    assert "not available on this server" in html
    assert "<video" not in html


@pytest.mark.parametrize("path", [
    "/channels/{unknown}/",
    "/channels/{unknown}/topics/{node}/",
    "/channels/{unknown}/content/{node}/",
    "/channels/{upper}/",
    "/channels/{short}/",
    "/channels/{channel}%0A/",
    "/channels/0x{short_30}/",
    "/channels/{channel}/topics/{unknown}/",
    "/channels/{channel}/content/{unknown}/",
    "/channels/{channel}/content/{upper}/",
    "/channels/{channel}/content/..%2F..%2Fetc%2Fpasswd/",
    "/channels/{channel}/content/{{{node}}}/",
    "/no-such-page/",
])
def test_unknown_and_malformed_ids_get_a_readable_404_page(client, make_channel, path):
    channel = build_media_channel(make_channel)
    url = path.format(unknown="f" * 32, node=VIDEO_ID, upper=channel.channel_id.upper(),
                      short=channel.channel_id[:31], short_30=channel.channel_id[:30],
                      channel=channel.channel_id)
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Page not found" in response.content.decode()


def test_guest_access_off_sends_visitors_to_sign_in(client, make_channel, settings,
                                                    learner_user):
    settings.ALLOW_GUEST_ACCESS = False
    channel = build_media_channel(make_channel)
    for path in ("/", f"/channels/{channel.channel_id}/",
                 f"/channels/{channel.channel_id}/topics/{EXTRAS_ID}/",
                 f"/channels/{channel.channel_id}/content/{VIDEO_ID}/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/?next=")
    client.force_login(learner_user)
    assert "Counting to ten" in page_text(
        client.get(f"/channels/{channel.channel_id}/content/{VIDEO_ID}/"))


def test_header_shows_the_server_name_and_sign_in_or_out(client, settings, learner_user):
    settings.SERVER_NAME = "Room 4 server"
    html = page_text(client.get("/"))
    assert "Room 4 server" in html and 'href="/login/?next=/"' in html
    client.force_login(learner_user)
    html = page_text(client.get("/"))
    assert "charlie" in html
    assert re.search(r'<form class="account__signout" method="post" action="/logout/">\s*'
                     r'<input type="hidden" name="csrfmiddlewaretoken"', html)


def test_pages_answer_only_safe_methods(client, make_channel):
    channel = build_media_channel(make_channel)
    assert client.post(f"/channels/{channel.channel_id}/").status_code == 405
