"""The content API's answers (INTERFACE.md): channel nodes, their files, and search."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from kolibri_like.openapi.pieces import HEX_ID, document, errors, many, page_of, query, shape

FILE_FIELDS: dict[str, Any] = {
    "id": serializers.CharField(help_text=HEX_ID),
    "checksum": serializers.CharField(help_text="MD5, " + HEX_ID),
    "extension": serializers.CharField(),
    "preset": serializers.CharField(),
    "thumbnail": serializers.BooleanField(),
    "supplementary": serializers.BooleanField(),
    "lang": serializers.CharField(allow_null=True),
    "file_size": serializers.IntegerField(allow_null=True),
    "url": serializers.CharField(help_text="/content/storage/<c0>/<c1>/<md5>.<ext>"),
    "available": serializers.BooleanField(help_text="Whether the bytes are on this server."),
}
File = shape("File", FILE_FIELDS)
ChannelFile = shape("ChannelFile", {
    **FILE_FIELDS, "contentnode": serializers.CharField(help_text="The node's id."),
})
NODE_FIELDS: dict[str, Any] = {
    "id": serializers.CharField(help_text=HEX_ID),
    "channel_id": serializers.CharField(help_text=HEX_ID),
    "content_id": serializers.CharField(help_text="Shared by copies of a resource; " + HEX_ID),
    "parent": serializers.CharField(allow_null=True, help_text="The parent topic's id."),
    "title": serializers.CharField(),
    "description": serializers.CharField(),
    "kind": serializers.CharField(help_text="topic, video, audio, document, exercise, html5 ..."),
    "sort_order": serializers.FloatField(),
    "available": serializers.BooleanField(),
    "thumbnail": serializers.CharField(allow_null=True, help_text="URL or null"),
    "files": many(File),
}
Node = shape("ContentNode", NODE_FIELDS)
NodeDetail = shape("ContentNodeDetail", {
    **NODE_FIELDS,
    "ancestors": shape("Ancestor", {"id": serializers.CharField(),
                                               "title": serializers.CharField()}, many=True),
    "rendering": serializers.DictField(
        child=serializers.JSONField(),
        help_text="What the rendering workflow chose: player, essential file, supplementary "
                  "files."),
})
SearchResult = shape("SearchResult", {
    **NODE_FIELDS,
    "channel_name": serializers.CharField(),
    "lang": serializers.CharField(allow_null=True),
    "match": serializers.ChoiceField(["word", "prefix"]),
    "score": serializers.FloatField(help_text="bm25 relevance, higher first"),
})

document("content.api.ContentNodeListView", get=extend_schema(
    summary="List a channel's nodes",
    parameters=[query("parent", "Only the children of this topic (node id), in sort_order."),
                query("kind", "Only nodes of this kind (topic, video, ...)."),
                query("search", "Words in the title or description.")],
    responses={200: many(Node), **errors(400, 404)}))
document("content.api.ContentNodeDetailView", get=extend_schema(
    summary="One node with its files, ancestors and rendering",
    responses={200: NodeDetail, **errors(404)}))
document("content.api.ChannelFileListView", get=extend_schema(
    summary="List a channel's files",
    parameters=[query("contentnode", "Only the files of this node (node id).")],
    responses={200: many(ChannelFile), **errors(400, 404)}))
document("content.search.api.SearchView", get=extend_schema(
    summary="Search every channel, ranked", operation_id="api_search_list",
    description="Whole-word matches before prefixes; title hits before description hits; then "
                "bm25 score.",
    parameters=[query("q", "The words to find."),
                query("kind", "Only nodes of this kind."),
                query("lang", "Only nodes in this language."),
                query("channel", "Only this channel (channel id)."),
                query("page", "Page number, from 1; the first 1000 results.", int),
                query("page_size", "Results per page, up to 100.", int)],
    responses={200: page_of("PaginatedSearchResultList", many(SearchResult)),
               **errors(400, 404)}))
