"""The pages and files the sandbox origin (kolibri_like/zip_app.py) serves beside content.

A player that runs a library on content someone else made (Ruffle on a SWF, epub.js on a
book's HTML, h5p-standalone on an H5P package) runs on the sandbox origin, never on the main
site: its page is one of those below, and the library comes from `/assets/<library>/`, a
vendored folder of the static files (found like any static file, so a wheel install works):

    GET /zipcontent/<md5>.swf/      FLASH_PAGE (Ruffle from /ruffle/)
    GET /reader/<md5>.epub/         READER_PAGES["epub"]: epub.js opens /zipcontent/<md5>.epub/
    GET /reader/<md5>.h5p/          READER_PAGES["h5p"]: h5p-standalone opens /zipcontent/<md5>.h5p/
    GET /assets/<library>/<path>    a file of ASSET_LIBRARIES[library]

The pages are the same for every item (their scripts read the checksum from the address),
so they carry nothing a request could inject.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

# What every answer of the sandbox origin carries (kolibri_like/zip_app.py says why).
CONTENT_POLICY = ("default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; "
                  "base-uri 'self'; form-action 'self'; sandbox allow-scripts allow-forms")

# Vendored folders (scripts/vendor_*.sh) and our own scripts for the reader pages.
ASSET_LIBRARIES = {
    "epubjs": "frontend/epubjs",
    "h5p": "frontend/h5p-standalone",
    "sandbox": "frontend/sandbox",
}
# Plain names only: no hidden files, no `..`, nothing a file system would read differently.
ASSET_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")

FLASH_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Flash</title>
<style>
html, body {{ margin: 0; height: 100%; background: #000; }}
ruffle-player {{ display: block; width: 100%; height: 100%; }}
</style>
<script>
// Everything from this origin: Ruffle's other files (publicPath) and the movie. No network
// access for the movie itself, no links out, no update checks, nothing to download.
window.RufflePlayer = {{config: {{
  publicPath: "/ruffle/", polyfills: false, autoplay: "on", unmuteOverlay: "hidden",
  splashScreen: false, allowNetworking: "none", openUrlMode: "deny", showSwfDownload: false,
  warnOnUnsupportedContent: false, letterbox: "on", logLevel: "warn"
}}}};
</script>
<script src="/ruffle/ruffle.js"></script>
</head>
<body data-state="starting">
<script>
// data-state says how far the player got: ready (Ruffle runs), loaded (the movie's header
// was read), or error; tests and anyone debugging a movie read it.
window.addEventListener("DOMContentLoaded", function () {{
  var player = window.RufflePlayer.newest().createPlayer();
  document.body.appendChild(player);
  player.addEventListener("loadedmetadata", function () {{
    document.body.dataset.state = "loaded";
  }});
  player.ruffle().load({{url: "{movie}"}}).then(function () {{
    if (document.body.dataset.state === "starting") document.body.dataset.state = "ready";
  }}, function (error) {{
    document.body.dataset.state = "error";
    document.body.dataset.error = String(error);
  }});
}});
</script>
</body>
</html>
"""

# Labels come from the main page (translated there) in the query string; these are fallbacks.
EPUB_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Book</title>
<link rel="stylesheet" href="/assets/sandbox/reader.css">
<script src="/assets/epubjs/epub.min.js"></script>
</head>
<body data-state="starting">
<nav class="reader__bar">
<button type="button" data-reader-previous data-label="previous">&#8249; Previous</button>
<select data-reader-contents aria-label="Contents" data-label="contents"></select>
<button type="button" data-reader-next data-label="next">Next &#8250;</button>
</nav>
<p class="reader__message" data-reader-message hidden></p>
<main id="book" class="reader__book"></main>
<script src="/assets/sandbox/epub-reader.js"></script>
</body>
</html>
"""

H5P_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>H5P</title>
<link rel="stylesheet" href="/assets/sandbox/reader.css">
<script src="/assets/sandbox/storage-shim.js"></script>
<script src="/assets/h5p/main.bundle.js"></script>
</head>
<body data-state="starting" class="h5p-page">
<p class="reader__message" data-reader-message hidden></p>
<div id="h5p-container"></div>
<script src="/assets/sandbox/h5p-player.js"></script>
</body>
</html>
"""

READER_PAGES = {"epub": EPUB_PAGE, "h5p": H5P_PAGE}

# epub.js lays each chapter out in a frame it must reach into (measure, paginate). Inside an
# opaque origin that cannot work: a sandboxed page's frames get a new opaque origin each, even
# `srcdoc` ones. So the EPUB reader, and only it, runs on the sandbox origin itself
# (`allow-same-origin`), which is still another origin than the main site. What keeps a
# book's own scripts from running there: epub.js's chapter frames are sandboxed without
# `allow-scripts` (the browser blocks inline and loaded scripts alike, in nested frames too),
# and this policy runs only the vendored files under /assets/ (`{assets}`: never inline
# scripts, eval, or a file out of an app or a book).
EPUB_POLICY = ("default-src 'self' data: blob:; script-src {assets}; "
               "style-src 'self' 'unsafe-inline' data: blob:; object-src 'none'; "
               "base-uri 'self'; form-action 'none'; sandbox allow-scripts allow-same-origin")
# A Host header as browsers send it (a name or address, an optional port).
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](?::[0-9]{1,5})?")


def reader_policy(extension: str, scheme: str, host: str) -> str:
    """The Content-Security-Policy of a reader page; `scheme` and `host` name this origin.

    The H5P player runs the package's own content types: an app's policy. The EPUB reader
    runs only the vendored scripts, named by their folder (a path in a CSP source needs the
    origin before it; without a usable Host, `'self'` stands in).
    """
    if extension != "epub":
        return CONTENT_POLICY
    assets = (f"{scheme}://{host}/assets/" if scheme in ("http", "https") and _HOST.fullmatch(host)
              else "'self'")
    return EPUB_POLICY.format(assets=assets)

# Every HTML page of an HTML5 app gets the storage stand-in first (see storage-shim.js):
# apps run in an opaque origin, where `localStorage` throws, and many would stop there.
STORAGE_SHIM_TAG = b'<script src="/assets/sandbox/storage-shim.js"></script>'
_HEAD_TAG = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
_HTML_TAG = re.compile(rb"<html(?:\s[^>]*)?>", re.IGNORECASE)
_DOCTYPE = re.compile(rb"(?:\xef\xbb\xbf)?\s*<!doctype[^>]*>", re.IGNORECASE)
_BYTE_ORDER_MARK = b"\xef\xbb\xbf"


def with_storage_shim(page: bytes) -> bytes:
    """The page with STORAGE_SHIM_TAG before its own scripts: right after `<head>`, else
    after `<html>`, else after the doctype (never before it: that would switch the browser
    to quirks mode), else at the start.

        >>> with_storage_shim(b"<!DOCTYPE html><html><head><title>x</title>")[:40]
        b'<!DOCTYPE html><html><head><script src="'
    """
    for pattern in (_HEAD_TAG, _HTML_TAG):
        match = pattern.search(page)
        if match:
            return page[:match.end()] + STORAGE_SHIM_TAG + page[match.end():]
    doctype = _DOCTYPE.match(page)
    if doctype:
        at = doctype.end()
    else:
        at = len(_BYTE_ORDER_MARK) if page.startswith(_BYTE_ORDER_MARK) else 0
    return page[:at] + STORAGE_SHIM_TAG + page[at:]



@lru_cache(maxsize=None)
def asset_directory(library: str) -> Path | None:
    """The folder of a library in ASSET_LIBRARIES, or None when it is not installed."""
    from django.contrib.staticfiles import finders

    folder = ASSET_LIBRARIES.get(library)
    found = finders.find(f"{folder}/README.md") if folder else None
    return Path(str(found)).parent if found else None


def asset_path(library: str, name: str) -> Path | None:
    """The file `/assets/<library>/<name>` names, or None (unknown library, bad name, no file)."""
    directory = asset_directory(library)
    if directory is None or not ASSET_PATH.fullmatch(name):
        return None
    path = directory / name
    return path if path.is_file() else None
