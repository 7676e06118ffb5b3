"""The sandbox origin for HTML5 apps, H5P, EPUB and Flash: a small WSGI app on its own port.

`kolibri-like start` serves it on `--zip-port` (default: the server's port + 1). Another port
is another origin, so an app's scripts cannot read the main site's cookies, DOM or API. The
main page frames it (`frontend/players/html5.html`, `players/flash.html`) with
`sandbox="allow-scripts"` (apps also `allow-forms`) and no `allow-same-origin`, and every
answer here carries a `sandbox` in its Content-Security-Policy too: an app runs in an opaque
origin even when opened directly, so apps cannot share storage with each other or register a
service worker that would answer for every other app. The cost: the browser refuses
`localStorage`, `sessionStorage` and cookies inside an app (Kolibri's renderer sandboxes the
same way and stands in for them with its "hashi" library). Our stand-in: every HTML page of
an app is served with `frontend/sandbox/storage-shim.js` loaded first, an in-memory Storage
that lives as long as the page (nothing shared, nothing kept).

    GET /zipcontent/<md5>.zip/<member path>   a member of an HTML5 app (`.h5p`, `.epub`
                                              alike); `<md5>.zip/` and `dir/` serve `index.html`
    GET /reader/<md5>.epub/                   the EPUB reader page (epub.js), which opens
                                              the book's members from /zipcontent/<md5>.epub/
    GET /reader/<md5>.h5p/                    the H5P player page (h5p-standalone), alike
    GET /assets/<library>/<file>              vendored readers and their scripts
                                              (kolibri_like/sandbox_pages.py)
    GET /zipcontent/<md5>.swf/                the Ruffle page that plays the stored SWF
    GET /zipcontent/<md5>.swf/movie.swf       the SWF itself
    GET /ruffle/<file>                        vendored Ruffle (frontend/static/frontend/ruffle)

Headers, and why:
- CONTENT_POLICY: an app may load and run its own files (inline scripts, eval and WebAssembly
  included: many apps and Ruffle need them) but may not connect anywhere else.
- `Access-Control-Allow-Origin: *`: in its opaque origin an app's `fetch()` of its own files
  is cross-origin; the content is public and this origin has no credentials, so `*` gives
  nothing away.
- The EPUB reader page alone runs on this origin itself, not in an opaque one
  (sandbox_pages.EPUB_POLICY says why and what keeps a book's scripts from running).
- No cookie is ever read or set and there are no sessions: plain WSGI, not Django's stack.
  Browsers do send the main site's cookies here (cookies ignore ports); nothing reads them,
  and only the EPUB reader's own scripts could (`document.cookie` sees the ones that are not
  HttpOnly, as the session cookie is).
- Stored files never change (named by MD5): a year of caching, and ETags for revalidation.
- One byte range per request (storage.ranges), so a video inside an app can seek.

`zip_origin` is the template context processor that tells the main site's pages where this
origin is: the request's own host name (so a learner on the LAN reaches it) and ZIP_PORT.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from kolibri_like.sandbox_pages import (
    CONTENT_POLICY,
    FLASH_PAGE,
    READER_PAGES,
    asset_path,
    reader_policy,
    with_storage_shim,
)
from storage.paths import InvalidStorageNameError, storage_name, storage_path
from storage.ranges import (
    ByteRange,
    UnsatisfiableRange,
    if_none_match_matches,
    if_range_allows_range,
    parse_range_header,
)
from storage.zip_serving import (
    DamagedZipArchiveError,
    InvalidMemberPathError,
    ZipArchiveRefusedError,
    ZipDirectoryRedirectError,
    ZipMemberNotFoundError,
    open_zip_member,
)

StartResponse = Callable[..., Any]
Headers = list[tuple[str, str]]

APP_EXTENSION = "zip"
SHIM_EDITION = "s1"
# An .epub is a zip too: its reader page asks for the book's files one by one.
ZIP_EXTENSIONS = frozenset({"zip", "h5p", "epub"})
FLASH_EXTENSION = "swf"
MOVIE_NAME = "movie.swf"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
# ruffle.js keeps its name across versions; only the files named by a hash never change.
RUFFLE_LOADER_CACHE = "public, max-age=3600"
_HASHED_NAME = re.compile(r".*[0-9a-f]{20}\.(?:js|wasm)")
_ZIP_PATH = re.compile(r"/zipcontent/(?P<checksum>[0-9a-f]{32})\.(?P<extension>[0-9a-z]{1,10})"
                       r"(?P<slash>/(?P<member>.*))?", re.DOTALL)
_RUFFLE_PATH = re.compile(r"/ruffle/(?P<name>[A-Za-z0-9_.-]+\.(?:js|wasm))")
_READER_PATH = re.compile(r"/reader/(?P<checksum>[0-9a-f]{32})\.(?P<extension>epub|h5p)/")
_ASSET_PATH = re.compile(r"/assets/(?P<library>[a-z0-9-]{1,40})/(?P<name>.{1,300})", re.DOTALL)
# The vendored libraries keep their names across versions: revalidate now and then.
ASSET_CACHE = "public, max-age=3600"
# Types of the files apps are made of. nosniff makes the browser trust these, so scripts and
# WebAssembly must be named right; the system's mime.types fills in the rest.
MEMBER_TYPES = {
    "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8", "json": "application/json",
    "wasm": "application/wasm", "svg": "image/svg+xml", "png": "image/png",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
    "ico": "image/x-icon", "mp3": "audio/mpeg", "ogg": "audio/ogg", "wav": "audio/wav",
    "mp4": "video/mp4", "webm": "video/webm", "woff": "font/woff", "woff2": "font/woff2",
    "ttf": "font/ttf", "otf": "font/otf", "txt": "text/plain; charset=utf-8",
    "xml": "application/xml", "swf": "application/x-shockwave-flash",
    "vtt": "text/vtt; charset=utf-8",
}
DEFAULT_TYPE = "application/octet-stream"

def member_content_type(name: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in MEMBER_TYPES:
        return MEMBER_TYPES[extension]
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    return guessed or DEFAULT_TYPE


def common_headers(policy: str = CONTENT_POLICY) -> Headers:
    return [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("Access-Control-Allow-Origin", "*"),
        # The app's address names the content; no other site needs to learn it.
        ("Referrer-Policy", "no-referrer"),
    ]


def _answer(start_response: StartResponse, status: str, headers: Headers,
            body: Iterable[bytes], environ: dict[str, Any],
            policy: str = CONTENT_POLICY) -> Iterable[bytes]:
    start_response(status, common_headers(policy) + headers)
    if environ.get("REQUEST_METHOD") == "HEAD":
        close = getattr(body, "close", None)
        if close is not None:
            close()
        return [b""]
    return body


def _text(start_response: StartResponse, environ: dict[str, Any], status: str,
          message: str, extra: Headers | None = None) -> Iterable[bytes]:
    data = (message + "\n").encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"),
               ("Content-Length", str(len(data))), ("Cache-Control", "no-store"), *(extra or [])]
    return _answer(start_response, status, headers, [data], environ)


def _not_modified(environ: dict[str, Any], etag: str) -> bool:
    return if_none_match_matches(environ.get("HTTP_IF_NONE_MATCH"), etag)


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """The WSGI entry point; see the module doc for the addresses."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return _text(start_response, environ, "405 Method Not Allowed",
                     "This origin only serves content: use GET or HEAD.",
                     [("Allow", "GET, HEAD")])
    path = _wsgi_path(environ)
    if path == "/":
        return _text(start_response, environ, "200 OK",
                     "kolibri-like: the sandbox origin for HTML5 apps and Flash.")
    ruffle_match = _RUFFLE_PATH.fullmatch(path)
    if ruffle_match:
        return serve_ruffle_file(environ, start_response, ruffle_match.group("name"))
    reader_match = _READER_PATH.fullmatch(path)
    if reader_match:
        return serve_reader_page(environ, start_response, reader_match.group("checksum"),
                                 reader_match.group("extension"))
    asset_match = _ASSET_PATH.fullmatch(path)
    if asset_match:
        return serve_asset(environ, start_response, asset_match.group("library"),
                           asset_match.group("name"))
    match = _ZIP_PATH.fullmatch(path)
    if match is None:
        return _text(start_response, environ, "404 Not Found", "Nothing here.")
    checksum, extension = match.group("checksum"), match.group("extension")
    if match.group("slash") is None:  # `/zipcontent/<md5>.zip`: relative links need the slash
        return _text(start_response, environ, "301 Moved Permanently", "With a slash.",
                     [("Location", f"/zipcontent/{checksum}.{extension}/")])
    member = match.group("member")
    if extension in ZIP_EXTENSIONS:
        return serve_zip_member(environ, start_response, checksum, extension, member)
    if extension == FLASH_EXTENSION:
        return serve_flash(environ, start_response, checksum, member)
    return _text(start_response, environ, "404 Not Found",
                 f"This origin plays .zip, .h5p, .epub and .swf files, not .{extension}.")


def _wsgi_path(environ: dict[str, Any]) -> str:
    """PATH_INFO as text: WSGI hands it over as latin-1-decoded bytes of the (%-decoded) URL."""
    raw = environ.get("PATH_INFO", "") or "/"
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return "\x00"  # matches no route, and no member (NUL is refused)


def serve_zip_member(environ: dict[str, Any], start_response: StartResponse, checksum: str,
                     extension: str, member: str) -> Iterable[bytes]:
    try:
        archive_path = storage_path(checksum, extension)
    except InvalidStorageNameError:
        return _text(start_response, environ, "404 Not Found", "No such content.")
    etag = f'"{checksum}-{hashlib.md5(member.encode()).hexdigest()[:16]}"'
    # An app's HTML pages get the storage stand-in; their ETag says which edition they got.
    shimmed = extension == APP_EXTENSION and (
        member == "" or member.endswith("/") or _is_html(member))
    if shimmed:
        etag = etag[:-1] + f'-{SHIM_EDITION}"'
    if _not_modified(environ, etag):
        return _answer(start_response, "304 Not Modified",
                       [("ETag", etag), ("Cache-Control", IMMUTABLE_CACHE)], [b""], environ)
    try:
        opened = open_zip_member(archive_path, member)
    except ZipDirectoryRedirectError as redirect:
        return _text(start_response, environ, "301 Moved Permanently", "A folder.",
                     [("Location", f"/zipcontent/{checksum}.{extension}/"
                                   f"{quote(redirect.directory)}")])  # headers are latin-1
    except (InvalidMemberPathError, ZipMemberNotFoundError):
        return _text(start_response, environ, "404 Not Found",
                     "No such file in this app. Check the address.")
    except ZipArchiveRefusedError as error:
        return _text(start_response, environ, "403 Forbidden",
                     f"This app's archive is not served: {error}.")
    except DamagedZipArchiveError as error:
        return _text(start_response, environ, "500 Internal Server Error",
                     f"This app's archive is damaged ({error}); an admin can run "
                     f"`kolibri-like verifystorage --repair`.")
    if shimmed and _is_html(opened.name) and opened.body.preloaded is not None:
        # Pages up to MEMORY_READ_LIMIT are already read (and CRC-checked); a larger one
        # streams as it is. A page is answered whole: byte ranges of HTML are not worth it.
        page = with_storage_shim(opened.body.preloaded)
        opened.body.close()
        headers = [("Content-Type", member_content_type(opened.name)), ("ETag", etag),
                   ("Cache-Control", IMMUTABLE_CACHE), ("Content-Length", str(len(page)))]
        return _answer(start_response, "200 OK", headers, [page], environ)
    headers = [("Content-Type", member_content_type(opened.name)), ("ETag", etag),
               ("Cache-Control", IMMUTABLE_CACHE), ("Accept-Ranges", "bytes")]
    decision = None
    if environ.get("REQUEST_METHOD") == "GET" and if_range_allows_range(
            environ.get("HTTP_IF_RANGE"), etag):
        decision = parse_range_header(environ.get("HTTP_RANGE"), opened.size)
    if isinstance(decision, UnsatisfiableRange):
        opened.body.close()
        return _text(start_response, environ, "416 Range Not Satisfiable",
                     f"The file has {opened.size} bytes.",
                     [("Content-Range", decision.content_range(opened.size))])
    if isinstance(decision, ByteRange):
        opened.body.select(decision.start, decision.length)
        headers += [("Content-Range", decision.content_range(opened.size)),
                    ("Content-Length", str(decision.length))]
        return _answer(start_response, "206 Partial Content", headers, opened.body, environ)
    headers.append(("Content-Length", str(opened.size)))
    return _answer(start_response, "200 OK", headers, opened.body, environ)


def _is_html(name: str) -> bool:
    return member_content_type(name).startswith("text/html")


def serve_flash(environ: dict[str, Any], start_response: StartResponse, checksum: str,
                member: str) -> Iterable[bytes]:
    """`<md5>.swf/` is the Ruffle page; `<md5>.swf/movie.swf` the stored movie."""
    movie_path = storage_path(checksum, FLASH_EXTENSION)
    if member not in ("", MOVIE_NAME) or not movie_path.is_file():
        return _text(start_response, environ, "404 Not Found", "No such Flash movie.")
    if member == "":
        page = FLASH_PAGE.format(movie=MOVIE_NAME).encode()
        # Small and tied to the vendored Ruffle, which an upgrade replaces: revalidate.
        headers = [("Content-Type", "text/html; charset=utf-8"),
                   ("Content-Length", str(len(page))), ("Cache-Control", "no-cache")]
        return _answer(start_response, "200 OK", headers, [page], environ)
    etag = f'"{checksum}"'
    if _not_modified(environ, etag):
        return _answer(start_response, "304 Not Modified",
                       [("ETag", etag), ("Cache-Control", IMMUTABLE_CACHE)], [b""], environ)
    headers = [("Content-Type", MEMBER_TYPES["swf"]), ("ETag", etag),
               ("Content-Disposition", f'inline; filename="{storage_name(checksum, "swf")}"'),
               ("Cache-Control", IMMUTABLE_CACHE)]
    return _send_file(environ, start_response, movie_path, headers)


def serve_reader_page(environ: dict[str, Any], start_response: StartResponse, checksum: str,
                      extension: str) -> Iterable[bytes]:
    """The page that plays a stored .epub or .h5p; its script reads the checksum from the path."""
    if not storage_path(checksum, extension).is_file():
        return _text(start_response, environ, "404 Not Found",
                     f"No such .{extension} file on this server.")
    page = READER_PAGES[extension].encode()
    headers = [("Content-Type", "text/html; charset=utf-8"),
               ("Content-Length", str(len(page))), ("Cache-Control", "no-cache")]
    return _answer(start_response, "200 OK", headers, [page], environ,
                   policy=reader_policy(extension, environ.get("wsgi.url_scheme", "http"),
                                        environ.get("HTTP_HOST", "")))


def serve_asset(environ: dict[str, Any], start_response: StartResponse, library: str,
                name: str) -> Iterable[bytes]:
    path = asset_path(library, name)
    if path is None:
        return _text(start_response, environ, "404 Not Found", "No such file.")
    headers = [("Content-Type", member_content_type(name)), ("Cache-Control", ASSET_CACHE)]
    return _send_file(environ, start_response, path, headers)


@lru_cache(maxsize=1)
def ruffle_directory() -> Path:
    """Where the vendored Ruffle is (found like any static file, so a wheel install works)."""
    from django.contrib.staticfiles import finders

    found = finders.find("frontend/ruffle/ruffle.js")
    if not found:
        raise RuntimeError("the vendored Ruffle is missing: run scripts/vendor_ruffle.sh")
    return Path(str(found)).parent


def serve_ruffle_file(environ: dict[str, Any], start_response: StartResponse,
                      name: str) -> Iterable[bytes]:
    path = ruffle_directory() / name
    if not path.is_file():
        return _text(start_response, environ, "404 Not Found", "No such Ruffle file.")
    cache = IMMUTABLE_CACHE if _HASHED_NAME.fullmatch(name) else RUFFLE_LOADER_CACHE
    headers = [("Content-Type", member_content_type(name)), ("Cache-Control", cache)]
    return _send_file(environ, start_response, path, headers)


def _send_file(environ: dict[str, Any], start_response: StartResponse, path: Path,
               headers: Headers) -> Iterable[bytes]:
    """The whole file, through the server's file_wrapper (sendfile where it has one)."""
    handle = path.open("rb")
    size = path.stat().st_size
    wrapper = environ.get("wsgi.file_wrapper")
    body: Iterable[bytes] = wrapper(handle, 64 * 1024) if wrapper else FileChunks(handle)
    return _answer(start_response, "200 OK", [*headers, ("Content-Length", str(size))], body,
                   environ)


class FileChunks:
    """A file as WSGI body, for servers without `wsgi.file_wrapper`; closed when done."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.handle.read(64 * 1024):
            yield chunk

    def close(self) -> None:
        self.handle.close()


def zip_origin_for(request: Any) -> str:
    """`http://<the request's host name>:<ZIP_PORT>`: what the main site's pages frame.

    ZIP_PORT 0 (not started by `kolibri-like start`, e.g. `runserver`) means the request's
    port + 1, the same default `start` uses.
    """
    from django.conf import settings
    from django.http.request import split_domain_port

    domain, port = split_domain_port(request.get_host())
    zip_port = int(getattr(settings, "ZIP_PORT", 0) or 0)
    if not zip_port:
        default_port = 443 if request.is_secure() else 80
        zip_port = int(port or default_port) + 1
    return f"{request.scheme}://{domain}:{zip_port}"


def zip_origin(request: Any) -> dict[str, object]:
    """Template context processor: `{{ zip_origin }}`, computed only by pages that use it."""
    return {"zip_origin": lambda: zip_origin_for(request)}
