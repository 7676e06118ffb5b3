"""Routes of the task API."""

from __future__ import annotations

from django.urls import path

from jobs.api import TaskDetailView, TaskListView

urlpatterns = [
    path("api/tasks/", TaskListView.as_view(), name="task-list"),
    path("api/tasks/<str:job_id>/", TaskDetailView.as_view(), name="task-detail"),
]
