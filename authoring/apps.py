from django.apps import AppConfig


class AuthoringConfig(AppConfig):
    name = "authoring"
    label = "authoring"
    verbose_name = "Authoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The encode job kind registers itself; tasks.py makes Huey know the hourly collector.
        from authoring import encoding, tasks  # noqa: F401
