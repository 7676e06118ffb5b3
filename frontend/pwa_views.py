"""What lets the site behave like an app on a tablet: the web app manifest, the service worker,
the offline page it falls back to, and the ping that `connection.js` uses to see whether the
server answers.

The service worker is served from the site root (`/sw.js`) because a worker only controls pages
under the folder it was loaded from. That root script is tiny and generated: it names the app
shell by its content-hashed static URLs, then imports the worker's code from the (hashed,
immutable) static file `frontend/sw.js`. A new deployment changes those URLs, so the root
script's bytes change and browsers install the new worker by themselves.

    GET /manifest.webmanifest  -> application/manifest+json
    GET /sw.js                 -> the worker (only registered on HTTPS pages, connection.js)
    GET /offline/              -> the page shown for a navigation while the server is away
    GET /ping/                 -> 204, never cached
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

THEME_COLOR = "#0b6e69"  # --brand in site.css
BACKGROUND_COLOR = "#f5f7fa"  # --page in site.css
ICON_SIZES = (192, 512)
# Home screens cut longer short names.
SHORT_NAME_LENGTH = 12
# Static files the offline page needs; the worker caches them with the page when it installs.
SHELL_STATIC_FILES = ("frontend/site.css", "frontend/text.js", "frontend/api.js",
                      "frontend/connection.js",
                      *(f"frontend/icons/icon-{size}.png" for size in ICON_SIZES))


def web_app_manifest() -> dict[str, object]:
    name = settings.SERVER_NAME or "kolibri-like"
    return {
        "name": name,
        "short_name": name if len(name) <= SHORT_NAME_LENGTH
        else name[:SHORT_NAME_LENGTH - 1] + "…",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        # Drawn full-bleed with the picture inside the safe zone, so one file serves both.
        "icons": [{"src": static(f"frontend/icons/icon-{size}.png"),
                   "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any maskable"}
                  for size in ICON_SIZES],
    }


def service_worker_script() -> str:
    shell = {
        "offlineUrl": reverse("frontend:offline"),
        "pingUrl": reverse("frontend:ping"),
        "staticPrefix": settings.STATIC_URL,
        "urls": [reverse("frontend:offline"), reverse("frontend:manifest"),
                 *(static(path) for path in SHELL_STATIC_FILES)],
    }
    # The cache's name follows the shell's URLs (hashed): a new deployment gets a new cache and
    # the worker's activation drops the old one.
    shell["version"] = hashlib.sha256(json.dumps(shell, sort_keys=True).encode()).hexdigest()[:16]
    return (f"self.KOLIBRI_SHELL = {json.dumps(shell)};\n"
            f"importScripts({json.dumps(static('frontend/sw.js'))});\n")


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(json.dumps(web_app_manifest(), ensure_ascii=False),
                            content_type="application/manifest+json")
    # SERVER_NAME may change; the manifest is small, so browsers ask again each time.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(service_worker_script(), content_type="text/javascript")
    # Browsers check a worker for updates at most daily when it may be cached; no-cache makes
    # a new deployment reach tablets at their next visit.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
@never_cache
def offline(request: HttpRequest) -> HttpResponse:
    # No guest check: the worker fetches this without cookies, and it shows nothing private.
    return render(request, "frontend/offline.html")


@require_safe
@never_cache
def ping(request: HttpRequest) -> HttpResponse:
    # No database, no session: the cheapest answer that proves the server is there.
    return HttpResponse(status=204)
