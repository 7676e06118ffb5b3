"""The routes kolibri_like/urls.py names: the YAML document (`?format=json` for JSON) and
Swagger UI.

drf-spectacular's views module reads DEFAULT_SCHEMA_CLASS (the package's AutoSchema) when it is
imported, so this module is imported by the package only once AutoSchema is there; importing it
directly imports the package first, which keeps that order.
"""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

# Swagger UI's scripts, styles and favicon are drf-spectacular-sidecar's static files
# (SWAGGER_UI_DIST = "SIDECAR"), served by whitenoise.
schema_view = SpectacularAPIView.as_view()
docs_view = SpectacularSwaggerView.as_view(url_name="api-schema")
