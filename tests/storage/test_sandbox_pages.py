"""The sandbox origin's reader pages and vendored assets (kolibri_like/sandbox_pages.py),
called through the WSGI app like tests/storage/test_zip_serving.py does."""

from __future__ import annotations

import pytest

from kolibri_like.sandbox_pages import (
    CONTENT_POLICY,
    EPUB_POLICY,
    reader_policy,
    with_storage_shim,
)
from tests.storage.test_zip_serving import call_app, make_zip

BOOK_FILES = {
    "mimetype": b"application/epub+zip",
    "META-INF/container.xml": b"<container/>",
    "OEBPS/chapter.xhtml": b"<html><head></head><body>one</body></html>",
    "OEBPS/notes.html": b"<html><head></head><body>notes</body></html>",
}


def test_the_epub_reader_runs_on_the_sandbox_origin_without_running_book_scripts(
        place_in_storage) -> None:
    book = place_in_storage(make_zip(BOOK_FILES), "epub")
    status, headers, page = call_app(f"/reader/{book.checksum}.epub/")
    assert status == "200 OK" and headers["content-type"].startswith("text/html")
    policy = headers["content-security-policy"]
    assert policy == EPUB_POLICY.format(assets="http://127.0.0.1/assets/")
    # Only the vendored scripts: no inline script, no eval, no file of a book or an app.
    assert "script-src http://127.0.0.1/assets/;" in policy
    assert "unsafe" not in policy.split("style-src")[0]
    assert "sandbox allow-scripts allow-same-origin" in policy
    assert b'<script src="/assets/epubjs/epub.min.js"></script>' in page
    assert b"http" not in page  # nothing from another host


@pytest.mark.parametrize(("scheme", "host", "assets"), [
    ("https", "10.0.0.2:8001", "https://10.0.0.2:8001/assets/"),
    ("http", "[::1]:8001", "http://[::1]:8001/assets/"),
    ("http", "evil; script-src *", "'self'"),
    ("http", "", "'self'"),
    ("gopher", "x", "'self'"),
])
def test_the_epub_policy_names_the_assets_of_this_origin(scheme: str, host: str,
                                                         assets: str) -> None:
    assert reader_policy("epub", scheme, host) == EPUB_POLICY.format(assets=assets)
    assert reader_policy("h5p", scheme, host) == CONTENT_POLICY


def test_the_h5p_player_stays_in_an_opaque_origin(place_in_storage) -> None:
    package = place_in_storage(make_zip({"h5p.json": b"{}"}), "h5p")
    status, headers, page = call_app(f"/reader/{package.checksum}.h5p/")
    assert status == "200 OK"
    assert headers["content-security-policy"] == CONTENT_POLICY
    assert "allow-same-origin" not in CONTENT_POLICY
    assert page.index(b"storage-shim.js") < page.index(b"main.bundle.js")


@pytest.mark.parametrize("path", [
    "/reader/" + "0" * 32 + ".epub/",      # not stored here
    "/reader/" + "0" * 32 + ".zip/",       # apps have no reader page
    "/reader/" + "0" * 32 + ".epub",       # the page is the folder
    "/reader/" + "A" * 32 + ".epub/",      # checksums are lowercase hex
])
def test_a_reader_page_needs_a_stored_book(path: str) -> None:
    assert call_app(path)[0] == "404 Not Found"


def test_book_and_package_files_come_out_of_the_archive_as_they_are(place_in_storage) -> None:
    book = place_in_storage(make_zip(BOOK_FILES), "epub")
    base = f"/zipcontent/{book.checksum}.epub/"
    status, headers, body = call_app(base + "META-INF/container.xml")
    assert status == "200 OK" and body == b"<container/>"
    # Opened directly, a book's page is as sandboxed as an app's.
    assert headers["content-security-policy"] == CONTENT_POLICY
    # Only apps get the storage stand-in: a book's HTML is read by the reader, never run.
    assert call_app(base + "OEBPS/notes.html")[2] == BOOK_FILES["OEBPS/notes.html"]
    app = place_in_storage(make_zip({"index.html": b"<head></head>"}), "zip")
    assert call_app(f"/zipcontent/{app.checksum}.zip/")[2] == with_storage_shim(b"<head></head>")


@pytest.mark.parametrize(("path", "content_type"), [
    ("/assets/epubjs/epub.min.js", "text/javascript"),
    ("/assets/h5p/main.bundle.js", "text/javascript"),
    ("/assets/h5p/styles/h5p.css", "text/css"),
    ("/assets/h5p/fonts/open-sans/OFL.txt", "text/plain"),
    ("/assets/sandbox/storage-shim.js", "text/javascript"),
])
def test_the_vendored_readers_are_served(path: str, content_type: str) -> None:
    status, headers, body = call_app(path)
    assert status == "200 OK" and headers["content-type"].startswith(content_type)
    assert body and headers["cache-control"] == "public, max-age=3600"


@pytest.mark.parametrize("path", [
    "/assets/epubjs/../../../kolibri_like/settings.py", "/assets/epubjs/..", "/assets/epubjs/",
    "/assets/epubjs/.hidden", "/assets/h5p//main.bundle.js", "/assets/nothing/epub.min.js",
    "/assets/ruffle/ruffle.js", "/assets/epubjs/missing.js", "/assets/h5p/fonts",
    "/assets/epubjs/epub.min.js\x00",
])
def test_nothing_else_is_served_as_an_asset(path: str) -> None:
    assert call_app(path)[0] == "404 Not Found"
