from django.apps import AppConfig


class AuthoringConfig(AppConfig):
    name = "authoring"
    label = "authoring"
    verbose_name = "Authoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # tasks.py makes Huey know the hourly collector.
        from authoring import tasks  # noqa: F401
