from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # tasks.py registers the consumer's heartbeat (a periodic task and a start-up hook).
        from operations import tasks  # noqa: F401
