"""JSON shape of a job (INTERFACE.md: `GET /api/tasks/<id>/`)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from jobs.labels import kind_label, stage_label
from jobs.models import Job
from jobs.selectors import result_summary


class JobSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    # `state` and `stage` are words scripts compare; these say them in the request's language.
    state_label = serializers.SerializerMethodField()
    stage_label = serializers.SerializerMethodField()
    stage_labels = serializers.SerializerMethodField()
    kind_label = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ("id", "kind", "state", "progress", "stage", "stage_done", "stage_total",
                  "stages", "error", "params", "channel_id", "result", "summary",
                  "state_label", "stage_label", "stage_labels", "kind_label", "created_by", "created_at",
                  "started_at", "finished_at", "heartbeat_at", "attempts", "cancel_requested")
        read_only_fields = fields

    def get_created_by(self, job: Job) -> str | None:
        return job.created_by.get_username() if job.created_by is not None else None

    def get_summary(self, job: Job) -> str:
        return result_summary(job)

    def get_state_label(self, job: Job) -> str:
        return str(job.get_state_display())

    def get_stage_label(self, job: Job) -> str:
        return stage_label(job.stage)

    def get_stage_labels(self, job: Job) -> dict[str, str]:
        return {name: stage_label(name) for name in job.stages or {}}

    def get_kind_label(self, job: Job) -> str:
        return kind_label(job.kind)

    def to_representation(self, instance: Job) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        data["id"] = str(instance.id)
        return data
