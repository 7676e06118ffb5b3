"""JSON shapes of the content API (INTERFACE.md). They only translate the selectors' cards.

Availability, thumbnails and files are computed by `content.selectors` for a whole page at once;
a serializer never queries, so a page costs the same few queries at any size.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from content.selectors import NodeCard, NodeDetail


class FileSerializer(serializers.Serializer):
    """A node's file; `available` says whether its bytes are on this server."""

    id = serializers.CharField()
    checksum = serializers.CharField()
    extension = serializers.CharField()
    preset = serializers.CharField()
    thumbnail = serializers.BooleanField()
    supplementary = serializers.BooleanField()
    lang = serializers.CharField(allow_null=True)
    file_size = serializers.IntegerField(allow_null=True)
    url = serializers.CharField()
    available = serializers.BooleanField()


class ChannelFileSerializer(FileSerializer):
    """`GET /api/content/<channel_id>/file/`: the same fields plus the node it belongs to."""

    contentnode = serializers.CharField()


class ContentNodeSerializer(serializers.Serializer):
    """A node in a listing. Reads a `NodeCard`: the node's own columns come from `card.node`."""

    id = serializers.CharField(source="node.id")
    channel_id = serializers.CharField(source="node.channel_id")
    content_id = serializers.CharField(source="node.content_id")
    parent = serializers.CharField(source="node.parent_id", allow_null=True)
    title = serializers.CharField(source="node.title")
    description = serializers.CharField(source="node.description", allow_null=True)
    kind = serializers.CharField(source="node.kind")
    sort_order = serializers.FloatField(source="node.sort_order", allow_null=True)
    available = serializers.BooleanField()
    thumbnail = serializers.CharField(source="thumbnail_url", allow_null=True)
    files = FileSerializer(many=True)


class AncestorSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()


class ContentNodeDetailSerializer(serializers.Serializer):
    """The listing's fields plus `ancestors` (root first) and `rendering`."""

    def to_representation(self, instance: NodeDetail) -> dict[str, Any]:
        data: dict[str, Any] = dict(ContentNodeSerializer(instance.card).data)
        data["ancestors"] = AncestorSerializer(instance.ancestors, many=True).data
        data["rendering"] = instance.rendering
        return data


def serialize_cards(cards: list[NodeCard]) -> list[dict[str, Any]]:
    return list(ContentNodeSerializer(cards, many=True).data)
