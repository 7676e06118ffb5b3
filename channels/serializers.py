"""JSON shapes of the channel registry (INTERFACE.md: `GET /api/channels/`, versions, revert)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from channels.models import Channel, ChannelVersion


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


class ChannelVersionSerializer(serializers.ModelSerializer):
    """One kept version; `current` needs the channel's served number in the context."""

    created_by = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()

    class Meta:
        model = ChannelVersion
        fields = ("number", "created_at", "source", "created_by", "version_label", "name",
                  "node_count", "file_count", "total_size", "database_size", "current")
        read_only_fields = fields

    def get_created_by(self, version: ChannelVersion) -> str | None:
        return version.created_by.get_username() if version.created_by is not None else None

    def get_current(self, version: ChannelVersion) -> bool:
        return version.number == self.context.get("current_version")


class RevertSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0)
