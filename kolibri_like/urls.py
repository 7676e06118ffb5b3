from django.contrib import admin
from django.urls import include, path

from kolibri_like import api_errors

urlpatterns = [
    path("django-admin/", admin.site.urls),
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


def handler500(request):
    if request.path.startswith("/api/"):
        return api_errors.json_server_error(request)
    from django.views.defaults import server_error

    return server_error(request)
