"""Routes of the content API. The keyword must be `channel_id`: the routing middleware reads it."""

from __future__ import annotations

from django.urls import path

from content.api import ChannelFileListView, ContentNodeDetailView, ContentNodeListView
from content.search.api import SearchView

urlpatterns = [
    path("api/content/<str:channel_id>/contentnode/", ContentNodeListView.as_view(),
         name="content-node-list"),
    path("api/content/<str:channel_id>/contentnode/<str:node_id>/",
         ContentNodeDetailView.as_view(), name="content-node-detail"),
    path("api/content/<str:channel_id>/file/", ChannelFileListView.as_view(),
         name="content-file-list"),
    # Across channels, each searched in its own index (content/search/).
    path("api/search/", SearchView.as_view(), name="search"),
]
