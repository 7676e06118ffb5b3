"""The task API (INTERFACE.md): start, watch and cancel background jobs.

    POST   /api/tasks/          {kind, ...params}  -> 201 {id, kind, state, ...}
    GET    /api/tasks/          ?state=queued,running&channel_id=&kind=  -> paginated jobs
    GET    /api/tasks/<id>/     -> {id, kind, state, progress, stage, error, created_at, ...}
    DELETE /api/tasks/<id>/     -> 200 the job (cancelled, or cancel_requested while running)

Signed-in users only; admins see every job, others the jobs they started (others' answer 404).
Import, export and scan are for admins (jobs.builtin_kinds).
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsSignedIn
from jobs import selectors, services
from jobs.errors import InvalidJobParamsError, JobError
from jobs.serializers import JobSerializer


class JobAPIError(APIException):
    """A domain error of jobs as `{"detail": message}` with the error's status."""

    def __init__(self, error: JobError) -> None:
        self.status_code = error.http_status
        super().__init__(detail=str(error))


def api_error(error: JobError) -> APIException:
    if isinstance(error, InvalidJobParamsError):
        return ValidationError({error.field: [error.message]})
    return JobAPIError(error)


def split_filter(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [part for part in value.split(",") if part]


class TaskListView(GenericAPIView):
    permission_classes = [IsSignedIn]
    serializer_class = JobSerializer

    def get(self, request: Request) -> Response:
        jobs = selectors.filtered_jobs(request.user,
                                       states=split_filter(request.query_params.get("state")),
                                       channel_id=request.query_params.get("channel_id"),
                                       kinds=split_filter(request.query_params.get("kind")))
        page = self.paginate_queryset(jobs)
        assert page is not None, "the task list is always paginated"
        return self.get_paginated_response(JobSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        payload: Any = request.data
        if not hasattr(payload, "get") or isinstance(payload, list):
            raise ValidationError({"kind": ["send a JSON object: {\"kind\": ..., ...}"]})
        try:
            job = services.start_job(request.user, dict(payload.items()))
        except JobError as error:
            raise api_error(error) from None
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


class TaskDetailView(GenericAPIView):
    permission_classes = [IsSignedIn]
    serializer_class = JobSerializer

    def get(self, request: Request, job_id: str) -> Response:
        try:
            job = selectors.get_visible_job(request.user, job_id)
        except JobError as error:
            raise api_error(error) from None
        return Response(JobSerializer(job).data)

    def delete(self, request: Request, job_id: str) -> Response:
        try:
            job = services.cancel_job(request.user, job_id)
        except JobError as error:
            raise api_error(error) from None
        return Response(JobSerializer(job).data)
