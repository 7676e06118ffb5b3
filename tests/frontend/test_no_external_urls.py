"""Nothing the learner pages load comes from another host: a classroom server has no internet.

Every rendered page, every static file our apps ship, and every static file a page links to
must name no http(s):// URL (nor a protocol-relative `//host` one) other than this server.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps

from tests.frontend.channels import (
    AUDIO_ID,
    EMPTY_VIDEO_ID,
    EXERCISE_ID,
    LESSONS_ID,
    PDF_ID,
    VIDEO_ID,
    build_media_channel,
)

pytestmark = pytest.mark.django_db

LOCAL_HOSTS = {"127.0.0.1", "localhost", "testserver", "[::1]"}
ABSOLUTE_URL = re.compile(r"https?://([^/\s\"'<>)]+)", re.I)
PROTOCOL_RELATIVE = re.compile(r"""(?:src|href|data|action|poster|srcset)\s*=\s*["']?//""", re.I)
CSS_PROTOCOL_RELATIVE = re.compile(r"""url\(\s*["']?//|@import\s+["']//""", re.I)
STATIC_REFERENCE = re.compile(r"""["'](/static/[^"'?#]+)""")
OUR_APPS = ("frontend", "accounts", "content", "channels", "storage", "routers", "authoring",
            "learning", "operations")
# Vendored players, byte for byte as their authors publish them: their files name URLs (help
# links, XML namespaces) that they never fetch. That they load nothing from another host is
# what the browser tests check (test_html5_browser.py and test_reader_browser.py watch every
# request).
REPOSITORY = Path(__file__).resolve().parents[2]
VENDORED = (*(REPOSITORY / "frontend" / "static" / "frontend" / name
              for name in ("ruffle", "epubjs", "h5p-standalone")),
            # The certificate's fonts: their metadata names their project's site.
            REPOSITORY / "learning" / "static" / "learning" / "fonts")


# Names that are URLs in form only, compared as strings and never fetched.
IDENTIFIERS = {
    # xAPI: the extension key under which H5P marks a sub-activity's statements
    # (frontend/static/frontend/sandbox/h5p-player.js ignores those when counting completion).
    "http://h5p.org/x-api/h5p-subContentId",
}


def is_foreign(host: str) -> bool:
    name = host.split(":")[0].lower()
    # `.invalid` never resolves (RFC 6761): a script may use it as a base to resolve relative
    # paths with URL(), which fetches nothing.
    return (name not in LOCAL_HOSTS and host.lower() not in LOCAL_HOSTS
            and not name.endswith(".invalid"))


def foreign_urls(text: str) -> list[str]:
    found = [match.group(0) for match in ABSOLUTE_URL.finditer(text)
             if is_foreign(match.group(1))
             and not any(text.startswith(name, match.start()) for name in IDENTIFIERS)]
    found += [match.group(0) for match in PROTOCOL_RELATIVE.finditer(text)]
    found += [match.group(0) for match in CSS_PROTOCOL_RELATIVE.finditer(text)]
    return found


def page_paths(channel_id: str) -> list[str]:
    base = f"/channels/{channel_id}"
    return ["/", "/login/", "/no-such-page/", f"{base}/", f"{base}/topics/{LESSONS_ID}/",
            *(f"{base}/content/{node_id}/" for node_id in
              (VIDEO_ID, AUDIO_ID, PDF_ID, EXERCISE_ID, EMPTY_VIDEO_ID))]


def test_it_finds_foreign_urls():
    assert foreign_urls('<script src="https://cdn.example.com/x.js">') != []
    assert foreign_urls('<link href="//fonts.example.com/css">') != []
    assert foreign_urls("body { background: url(//cdn.example.com/a.png) }") != []
    assert foreign_urls('<a href="http://127.0.0.1:8000/">') == []
    assert foreign_urls('new URL(href, "http://book.invalid/")') == []
    assert foreign_urls('<img src="http://evil.invalid.example.com/x.png">') != []


def test_rendered_pages_and_their_static_files_name_no_other_host(client, make_channel,
                                                                 learner_user):
    channel = build_media_channel(make_channel)
    static_paths: set[str] = set()
    for signed_in in (False, True):
        if signed_in:
            client.force_login(learner_user)
        for path in page_paths(channel.channel_id):
            response = client.get(path)
            assert response.status_code in (200, 404), path
            html = response.content.decode()
            assert foreign_urls(html) == [], path
            static_paths.update(STATIC_REFERENCE.findall(html))
    assert "/static/frontend/site.css" in static_paths
    for static_path in sorted(static_paths):
        response = client.get(static_path)
        assert response.status_code == 200, static_path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert foreign_urls(body.decode("utf-8", "replace")) == [], static_path


def test_every_static_file_we_ship_names_no_other_host():
    checked = 0
    for label in OUR_APPS:
        static_dir = Path(apps.get_app_config(label).path) / "static"
        for file_path in sorted(static_dir.rglob("*")) if static_dir.is_dir() else []:
            if any(file_path.resolve().is_relative_to(folder) for folder in VENDORED):
                continue
            if file_path.is_file():
                text = file_path.read_bytes().decode("utf-8", "replace")
                assert foreign_urls(text) == [], file_path
                checked += 1
    assert checked >= 2  # at least the stylesheet and the player script
