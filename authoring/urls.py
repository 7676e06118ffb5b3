"""Routes of the authoring API. Ids are `str` here and checked by the services (a malformed id
is the same 404 as an unknown one)."""

from __future__ import annotations

from django.urls import path

from authoring.api import DraftDetailView, DraftListView, DraftPublishView
from authoring.api_files import DraftFileDetailView, DraftFileListView

urlpatterns = [
    path("api/drafts/", DraftListView.as_view(), name="draft-list"),
    path("api/drafts/<str:draft_id>/", DraftDetailView.as_view(), name="draft-detail"),
    path("api/drafts/<str:draft_id>/publish/", DraftPublishView.as_view(),
         name="draft-publish"),
    path("api/drafts/<str:draft_id>/files/", DraftFileListView.as_view(), name="draft-files"),
    path("api/drafts/<str:draft_id>/files/<str:file_id>/", DraftFileDetailView.as_view(),
         name="draft-file"),
]
