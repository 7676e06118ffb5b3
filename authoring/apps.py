from django.apps import AppConfig


class AuthoringConfig(AppConfig):
    name = "authoring"
    label = "authoring"
    verbose_name = "Authoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The encode and convert job kinds register themselves; tasks.py makes Huey know the
        # hourly collector.
        from authoring import conversion, encoding, tasks  # noqa: F401
