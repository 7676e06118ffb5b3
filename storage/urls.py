"""The file store's one address: `/content/storage/<c0>/<c1>/<md5>.<ext>` (INTERFACE.md).

The segments are captured loosely (`str`) on purpose: the view checks them with
`storage.paths.parse_storage_relpath`, so every malformed name gets the same JSON 404.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from storage.views import serve_stored_file

urlpatterns: list[URLPattern] = [
    path("content/storage/<str:c0>/<str:c1>/<str:name>", serve_stored_file,
         name="storage-file"),
]
