from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The built-in kinds register themselves; tasks.py makes Huey know the job tasks.
        from jobs import builtin_kinds, tasks  # noqa: F401
