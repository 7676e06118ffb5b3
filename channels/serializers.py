"""JSON shape of a channel in the registry (INTERFACE.md: `GET /api/channels/`)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from channels.models import Channel


class ChannelSerializer(serializers.ModelSerializer):
    """What a learner's or a peer's channel list needs; state and problems are for admins."""

    class Meta:
        model = Channel
        fields = ("id", "name", "description", "version", "version_label", "root_id",
                  "node_count", "total_size", "thumbnail")
        read_only_fields = fields

    def to_representation(self, instance: Channel) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        # The file's thumbnail (a data: URI in Kolibri's format) or null, as for nodes.
        data["thumbnail"] = instance.thumbnail or None
        return data
