"""Learner pages: the channel list, topic browsing and the content page; admin pages under
`admin/` (frontend/admin_views.py).

The channel id keyword is `channel_id`, so `routers.middleware.ContentDBRoutingMiddleware`
checks it and activates that channel's database for the view; an id that is malformed or names
no installed channel is a 404, which people see as the page `frontend/templates/404.html`.
"""

from __future__ import annotations

from django.urls import path, register_converter

from frontend import admin_views, views
from frontend import authoring_views
from frontend import admin_users_views
from frontend import reports_views
from frontend import learning_views
from frontend import search_views
from frontend import pwa_views
from routers.ids import is_valid_channel_id


class HexIdConverter:
    """32 lowercase hex characters (a node id); checked again with `re.fullmatch`."""

    regex = "[0-9a-f]{32}"

    def to_python(self, value: str) -> str:
        if not is_valid_channel_id(value):
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(HexIdConverter, "hexid")

app_name = "frontend"
urlpatterns = [
    path("", views.home, name="home"),
    path("channels/<hexid:channel_id>/", views.channel, name="channel"),
    path("channels/<hexid:channel_id>/topics/<hexid:node_id>/", views.topic, name="topic"),
    path("channels/<hexid:channel_id>/content/<hexid:node_id>/", views.content,
         name="content"),
    # Admin pages: `pk`, not `channel_id`, so a rejected channel is reachable (admin_views).
    path("admin/channels/", admin_views.channel_list, name="admin-channels"),
    path("admin/channels/<hexid:pk>/", admin_views.channel_detail, name="admin-channel"),
    path("admin/channels/<hexid:pk>/revert/", admin_views.channel_revert,
         name="admin-channel-revert"),
    path("admin/channels/<hexid:pk>/delete/", admin_views.channel_delete,
         name="admin-channel-delete"),
    path("admin/import/", admin_views.import_page, name="admin-import"),
    path("admin/tasks/start/", admin_views.task_start, name="admin-task-start"),
    path("admin/tasks/<uuid:job_id>/cancel/", admin_views.task_cancel,
         name="admin-task-cancel"),
    # Accounts (admins only): frontend/admin_users_views.py.
    path("admin/users/", admin_users_views.user_list, name="admin-users"),
    path("admin/users/new/", admin_users_views.user_new, name="admin-user-new"),
    path("admin/users/import/", admin_users_views.user_import, name="admin-user-import"),
    path("admin/users/<int:user_id>/", admin_users_views.user_detail, name="admin-user"),
    path("admin/users/<int:user_id>/password/", admin_users_views.user_password,
         name="admin-user-password"),
    path("admin/users/<int:user_id>/active/", admin_users_views.user_active,
         name="admin-user-active"),
    # Authors' pages: "My courses" and the course wizard (frontend/authoring_views.py).
    path("author/", authoring_views.author_home, name="author-home"),
    path("author/drafts/new/", authoring_views.draft_new, name="author-draft-new"),
    path("author/drafts/<uuid:draft_id>/", authoring_views.draft_wizard, name="author-draft"),
    # Authors' progress reports of a course (frontend/reports_views.py).
    path("author/courses/<hexid:pk>/progress/", reports_views.course_progress,
         name="author-course-progress"),
    path("author/courses/<hexid:pk>/progress.csv", reports_views.course_progress_csv,
         name="author-course-progress-csv"),
    # Learners' own pages: their courses with progress, their certificates (learning_views.py).
    path("learn/", learning_views.my_courses, name="learn-courses"),
    path("learn/certificates/", learning_views.my_certificates, name="learn-certificates"),
    # Search across channels (frontend/search_views.py; the header's box submits here).
    path("search/", search_views.search, name="search"),
    # The app on a tablet: manifest, service worker (root scope), offline page, the ping that
    # connection.js uses (frontend/pwa_views.py).
    path("manifest.webmanifest", pwa_views.manifest, name="manifest"),
    path("sw.js", pwa_views.service_worker, name="service-worker"),
    path("offline/", pwa_views.offline, name="offline"),
    path("ping/", pwa_views.ping, name="ping"),
]
