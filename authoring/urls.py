"""Routes of the authoring API. Ids are `str` here and checked by the services (a malformed id
is the same 404 as an unknown one)."""

from __future__ import annotations

from django.urls import path

from authoring.api import DraftDetailView, DraftListView, DraftPublishView

urlpatterns = [
    path("api/drafts/", DraftListView.as_view(), name="draft-list"),
    path("api/drafts/<str:draft_id>/", DraftDetailView.as_view(), name="draft-detail"),
    path("api/drafts/<str:draft_id>/publish/", DraftPublishView.as_view(),
         name="draft-publish"),
]
