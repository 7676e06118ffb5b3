from typing import Any, Callable

from django.contrib import admin
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import include, path
from django.utils.module_loading import import_string
from django.views.i18n import JavaScriptCatalog

from kolibri_like import api_errors


def lazy_view(dotted_path: str) -> Callable[..., HttpResponseBase]:
    """A view imported on its first request (the API docs' imports stay out of start-up)."""

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return import_string(dotted_path)(request, *args, **kwargs)

    return view


urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("api/schema/", lazy_view("kolibri_like.openapi.schema_view"), name="api-schema"),
    path("api/docs/", lazy_view("kolibri_like.openapi.docs_view"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["frontend"]), name="javascript-catalog"),
    path("", include("accounts.urls")),
    path("", include("storage.urls")),
    path("", include("channels.urls")),
    path("", include("jobs.urls")),
    path("", include("authoring.urls")),
    path("", include("learning.urls")),
    path("", include("operations.urls")),
    path("", include("content.urls")),
    path("", include("frontend.urls")),
]


def handler404(request, exception=None):
    if request.path.startswith(("/api/", "/content/")):
        return api_errors.json_not_found(request, exception)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler400(request, exception=None):
    if request.path.startswith("/api/"):
        return api_errors.json_bad_request(request, exception)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return api_errors.json_server_error(request)
    from django.views.defaults import server_error

    return server_error(request)
