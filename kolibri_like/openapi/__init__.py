"""The OpenAPI description of the HTTP API (`/api/schema/`, Swagger UI at `/api/docs/`).

Most views answer plain dicts built by the apps' `*_json` functions (faster than DRF
serializers, see content/serializers.py), so drf-spectacular cannot guess their shapes. This
package describes them, from the outside, with one `OpenApiViewExtension` per view: the views
themselves stay untouched, and no app imports this package.

    pieces.py     AutoSchema, shapes, errors, pages, parameters, document()
    content.py    nodes, files, search
    channels.py   channels, versions, the channel database, tasks
    accounts.py   users and passwords
    authoring.py  drafts and their files (tus)
    learning.py   tests, attempts, progress, certificates
    hooks.py      drf-spectacular's pre- and postprocessing hooks
    views.py      the schema and docs routes

Importing it costs about 85 ms (drf-spectacular, PyYAML), so nothing imports it at start-up:
`kolibri_like/urls.py` routes to `schema_view` and `docs_view` by name, imported on the first
request, and SPECTACULAR_SETTINGS names `load` as a preprocessing hook, which makes
drf-spectacular import this package (registering the extensions) before it looks at any view,
also in `manage.py spectacular`.

    python manage.py spectacular --validate --fail-on-warn --file schema.yaml

When a view's JSON gains a field, add it to the shape in its area's module (INTERFACE.md lists
the stable ones; tests/kolibri_like/test_openapi.py compares the channel and node shapes with it).
"""

from __future__ import annotations

# The order matters: REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS is `kolibri_like.openapi.AutoSchema`,
# which drf-spectacular's views module reads when it is imported, so AutoSchema must be here
# before views.py is imported.
from kolibri_like.openapi.pieces import AutoSchema

# Imported for their side effect: each registers its views' descriptions.
from kolibri_like.openapi import accounts, authoring, channels, content, learning
from kolibri_like.openapi.hooks import describe_path_ids, load
from kolibri_like.openapi.views import docs_view, schema_view

__all__ = ["AutoSchema", "accounts", "authoring", "channels", "content", "describe_path_ids",
           "docs_view", "learning", "load", "schema_view"]
