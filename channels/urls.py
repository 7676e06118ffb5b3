"""Routes of the channel registry API and the channel database download."""

from __future__ import annotations

from django.urls import path

from channels.api import (
    ChannelDetailView,
    ChannelListView,
    ChannelRevertView,
    ChannelVersionListView,
)
from channels.views import ChannelDatabaseView

urlpatterns = [
    path("api/channels/", ChannelListView.as_view(), name="channel-list"),
    path("api/channels/<str:pk>/", ChannelDetailView.as_view(), name="channel-detail"),
    path("api/channels/<str:pk>/versions/", ChannelVersionListView.as_view(),
         name="channel-versions"),
    path("api/channels/<str:pk>/revert/", ChannelRevertView.as_view(), name="channel-revert"),
    # `channel_id`: the routing middleware checks it (404 for malformed or unknown) first.
    path("content/databases/<str:channel_id>.sqlite3", ChannelDatabaseView.as_view(),
         name="channel-database"),
]
