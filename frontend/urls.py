"""Learner pages: the channel list, topic browsing and the content page.

The channel id keyword is `channel_id`, so `routers.middleware.ContentDBRoutingMiddleware`
activates that channel's database for the view. The converters make ids that are malformed, or
name no installed channel, fail to match: Django then answers with the people-readable 404 page
(`frontend/templates/404.html`) instead of the middleware's JSON answer, which is meant for
`/api/`.
"""

from __future__ import annotations

from django.urls import path, register_converter

from channels.selectors import is_channel_servable
from frontend import views
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


class InstalledChannelConverter(HexIdConverter):
    """A channel id this server serves (the routing middleware checks it again)."""

    def to_python(self, value: str) -> str:
        value = super().to_python(value)
        if not is_channel_servable(value):
            raise ValueError(value)
        return value


register_converter(HexIdConverter, "hexid")
register_converter(InstalledChannelConverter, "channel")

app_name = "frontend"
urlpatterns = [
    path("", views.home, name="home"),
    path("channels/<channel:channel_id>/", views.channel, name="channel"),
    path("channels/<channel:channel_id>/topics/<hexid:node_id>/", views.topic, name="topic"),
    path("channels/<channel:channel_id>/content/<hexid:node_id>/", views.content,
         name="content"),
]
