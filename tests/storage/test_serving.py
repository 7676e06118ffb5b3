"""`/content/storage/<c0>/<c1>/<md5>.<ext>`: names, headers, caching, HEAD (Django's test client)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client, RequestFactory
from django.urls import reverse

from routers.connection_checks import DISPATCH_UID as CONNECTION_CHECK_UID
from routers.connection_checks import install_connection_checks
from storage import views
from storage.files import put_file
from storage.paths import storage_url
from tests.storage.conftest import PlacedFile, response_body

CHECKSUM = "9808fa7c560b9801acccf0f6cf74c3ea"
PREFIX = "/content/storage"


@pytest.fixture
def video(place_in_storage: Callable[..., PlacedFile]) -> PlacedFile:
    return place_in_storage(bytes(range(256)) * 40, "mp4")


def assert_json_404(response) -> None:
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(json.loads(response.content)) == {"detail"}


def test_the_url_is_named_and_matches_storage_url(video: PlacedFile) -> None:
    assert reverse("storage-file", kwargs={
        "c0": video.checksum[0], "c1": video.checksum[1],
        "name": f"{video.checksum}.mp4"}) == video.url


def test_it_serves_the_whole_file_with_its_headers(client: Client, video: PlacedFile) -> None:
    response = client.get(video.url)

    assert response.status_code == 200
    assert response_body(response) == video.data
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(video.data))
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{video.checksum}"'
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert policy.startswith("default-src 'none';") and "sandbox" in policy
    assert "script" not in policy
    assert response["Content-Disposition"].startswith("inline")


def test_the_whole_file_goes_to_the_wsgi_file_wrapper(video: PlacedFile) -> None:
    """FileResponse is what lets the WSGI server send the file its own way (sendfile)."""
    wrapped: list[tuple[object, int]] = []

    class RecordingFileWrapper:
        def __init__(self, filelike, block_size: int = 8192) -> None:
            wrapped.append((filelike, block_size))
            self.filelike = filelike

        def __iter__(self):
            return iter(lambda: self.filelike.read(65536), b"")

        def close(self) -> None:
            self.filelike.close()

    environ = RequestFactory()._base_environ(PATH_INFO=video.url, REQUEST_METHOD="GET")
    environ["wsgi.file_wrapper"] = RecordingFileWrapper
    statuses: list[str] = []
    # As Django's test client does: a request must not close the test's database connection
    # (neither Django's check nor the one routers.connection_checks puts in its place).
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
        signal.disconnect(dispatch_uid=CONNECTION_CHECK_UID)
    try:
        body = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
        try:
            assert b"".join(body) == video.data
        finally:
            body.close()
    finally:
        install_connection_checks()
    assert statuses == ["200 OK"]
    assert len(wrapped) == 1


@pytest.mark.parametrize(("extension", "expected"), [
    ("mp4", views.MEDIA_DOCUMENT_POLICY), ("mp3", views.MEDIA_DOCUMENT_POLICY),
    ("png", views.MEDIA_DOCUMENT_POLICY), ("svg", views.SANDBOX_POLICY),
    ("vtt", views.SANDBOX_POLICY), ("zip", views.SANDBOX_POLICY),
    ("html", views.SANDBOX_POLICY), ("epub", views.SANDBOX_POLICY), ("pdf", None),
])
def test_every_type_but_pdf_is_sandboxed_without_scripts(extension: str,
                                                         expected: str | None) -> None:
    headers = views.stored_file_headers("9808fa7c560b9801acccf0f6cf74c3ea", extension)
    assert headers.get("Content-Security-Policy") == expected
    for policy in (views.SANDBOX_POLICY, views.MEDIA_DOCUMENT_POLICY):
        assert "sandbox" in policy and "allow-scripts" not in policy
        assert "script-src" not in policy and policy.startswith("default-src 'none';")


@pytest.mark.django_db
def test_it_serves_what_put_file_stored(client: Client) -> None:
    stored = put_file(b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n", "vtt")
    response = client.get(storage_url(stored.checksum, "vtt"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert hashlib.md5(response_body(response)).hexdigest() == stored.checksum


def test_svg_is_a_download_never_a_page(client: Client,
                                        place_in_storage: Callable[..., PlacedFile]) -> None:
    svg = place_in_storage(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
                           b"</svg>", "svg")
    response = client.get(svg.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    response_body(response)


@pytest.mark.parametrize("extension", ["html", "htm", "xhtml", "xml", "js"])
def test_html_like_files_are_downloads(client: Client, extension: str,
                                       place_in_storage: Callable[..., PlacedFile]) -> None:
    page = place_in_storage(b"<html><script>alert(1)</script></html>", extension)
    response = client.get(page.url)
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    response_body(response)


def test_pdf_stays_viewable_in_the_browser(client: Client,
                                           place_in_storage: Callable[..., PlacedFile]) -> None:
    pdf = place_in_storage(b"%PDF-1.4 a lesson", "pdf")
    response = client.get(pdf.url)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert "Content-Security-Policy" not in response
    response_body(response)


def test_if_none_match_answers_304(client: Client, video: PlacedFile) -> None:
    for header in (f'"{video.checksum}"', f'W/"{video.checksum}"', f'"x", "{video.checksum}"',
                   "*"):
        response = client.get(video.url, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response["ETag"] == f'"{video.checksum}"'
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"

    other = client.get(video.url, headers={"If-None-Match": '"another"'})
    assert other.status_code == 200
    response_body(other)


def test_head_has_the_headers_but_no_body(client: Client, video: PlacedFile) -> None:
    response = client.head(video.url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == str(len(video.data))
    assert response["Content-Type"] == "video/mp4"
    assert response["ETag"] == f'"{video.checksum}"'
    assert response["Accept-Ranges"] == "bytes"


def test_other_methods_are_refused(client: Client, video: PlacedFile) -> None:
    for method in ("post", "put", "delete", "patch"):
        response = getattr(client, method)(video.url)
        assert response.status_code == 405, method
        assert response["Allow"] == "GET, HEAD"
        assert set(json.loads(response.content)) == {"detail"}
    assert video.path.read_bytes() == video.data


@pytest.mark.parametrize("address", [
    f"{PREFIX}/9/8/{CHECKSUM}.mp4",  # well formed, not stored
    f"{PREFIX}/../../db.sqlite3",
    f"{PREFIX}/%2e%2e%2f%2e%2e%2fdb.sqlite3",
    f"{PREFIX}/9/8/%2e%2e%2f%2e%2e%2f%2e%2e%2fdb.sqlite3",
    f"{PREFIX}/%2e%2e/%2e%2e/db.sqlite3",
    f"{PREFIX}/9/8/..%5c..%5csecret.txt",
    f"{PREFIX}/9%5c8/{CHECKSUM}.mp4",
    f"{PREFIX}/9/8/{CHECKSUM.upper()}.mp4",
    f"{PREFIX}/9/8/{CHECKSUM[:31]}.mp4",
    f"{PREFIX}/9/8/{CHECKSUM}a.mp4",
    f"{PREFIX}/8/9/{CHECKSUM}.mp4",
    f"{PREFIX}/9/9/{CHECKSUM}.mp4",
    f"{PREFIX}/9/8/{CHECKSUM}.mp4%0a",
    f"{PREFIX}/9/8/{CHECKSUM}%0a.mp4",
    f"{PREFIX}/9/8/{CHECKSUM}.mp4%00",
    f"{PREFIX}/9/8/{CHECKSUM}-data.zip",
    f"{PREFIX}/9/8/{CHECKSUM}",
    f"{PREFIX}/9/8/",
    f"{PREFIX}/9/8/x/{CHECKSUM}.mp4",
    f"{PREFIX}/9/8/{CHECKSUM}.mp4/",
    f"{PREFIX}/",
])
def test_malformed_names_and_traversal_get_404_without_touching_files(
        client: Client, address: str, monkeypatch: pytest.MonkeyPatch,
        content_dir: Path) -> None:
    # Something worth stealing next to the store, and the same name the traversal aims at.
    (content_dir / "db.sqlite3").write_bytes(b"SQLite format 3\x00 secret")
    (content_dir / "storage" / "db.sqlite3").write_bytes(b"SQLite format 3\x00 secret")
    opened: list[tuple[str, str]] = []
    real_open = views.open_stored_file

    def recording_open(checksum: str, extension: str):
        opened.append((checksum, extension))
        return real_open(checksum, extension)

    monkeypatch.setattr(views, "open_stored_file", recording_open)

    response = client.get(address)

    assert_json_404(response)
    assert b"secret" not in response.content
    # Only a well-formed name ever reaches the filesystem.
    assert opened in ([], [(CHECKSUM, "mp4")])


def test_a_symlink_in_the_store_is_not_followed(client: Client, content_dir: Path) -> None:
    secret = content_dir / "secret.txt"
    secret.write_bytes(b"secret")
    link = content_dir / "storage" / "a" / "b" / f"ab{'0' * 30}.txt"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    assert_json_404(client.get(f"{PREFIX}/a/b/ab{'0' * 30}.txt"))


def test_the_store_is_read_from_the_setting_at_request_time(
        client: Client, settings, tmp_path: Path,
        place_in_storage: Callable[..., PlacedFile]) -> None:
    stored = place_in_storage(b"in the first store", "txt")
    first = client.get(stored.url)
    assert (first.status_code, response_body(first)) == (200, b"in the first store")
    settings.CONTENT_STORAGE_DIR = tmp_path / "another-store"
    assert_json_404(client.get(stored.url))
