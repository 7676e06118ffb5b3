"""The channel API (installed channels, kept versions, the database a LAN peer downloads) and
the task API."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from channels.serializers import ChannelSerializer, ChannelVersionSerializer, RevertSerializer
from jobs.serializers import JobSerializer
from kolibri_like.openapi.pieces import document, errors, header, query, shape

document("channels.api.ChannelListView", get=extend_schema(
    summary="List the installed channels",
    responses={200: ChannelSerializer(many=True)}))
document("channels.api.ChannelDetailView",
         get=extend_schema(summary="One installed channel",
                           responses={200: ChannelSerializer, **errors(404)}),
         delete=extend_schema(summary="Delete a channel (admins, or its author)",
                              responses={204: None, **errors(401, 403, 404, 409)}))
document("channels.api.ChannelVersionListView", get=extend_schema(
    summary="The kept versions of a channel, newest first",
    responses={200: ChannelVersionSerializer(many=True), **errors(401, 403, 404)}))
document("channels.api.ChannelRevertView", post=extend_schema(
    summary="Make an older kept version current again",
    request=RevertSerializer,
    responses={200: ChannelSerializer, **errors(400, 401, 403, 404, 409)}))

TaskRequest = shape("TaskRequest", {
    "kind": serializers.CharField(help_text="import, export, scan, ... (jobs.builtin_kinds)"),
}, help_text="`kind` plus that kind's parameters.")
document("jobs.api.TaskListView",
         get=extend_schema(summary="List your tasks (admins: all)", parameters=[
             query("state", "Comma-separated: queued, running, done, failed, cancelled."),
             query("channel_id", "Only tasks on this channel."),
             query("kind", "Comma-separated task kinds.")],
             responses={200: JobSerializer(many=True), **errors(400, 401)}),
         post=extend_schema(summary="Start a task", request=TaskRequest,
                            responses={201: JobSerializer, **errors(400, 401, 403, 409)}))
document("jobs.api.TaskDetailView",
         get=extend_schema(summary="One task", responses={200: JobSerializer, **errors(401, 404)}),
         delete=extend_schema(summary="Cancel a task",
                              responses={200: JobSerializer, **errors(401, 404, 409)}))

document("channels.views.ChannelDatabaseView", get=extend_schema(
    summary="Download the current channel database (what a LAN peer imports)",
    parameters=[header("Range", "One byte range; answered 206."),
                header("If-Range", "The ETag the range applies to.")],
    responses={(200, "application/vnd.sqlite3"): OpenApiTypes.BINARY,
               (206, "application/vnd.sqlite3"): OpenApiTypes.BINARY, **errors(404, 416)}))
