from django.apps import AppConfig


class AuthoringConfig(AppConfig):
    name = "authoring"
    label = "authoring"
    verbose_name = "Authoring"
    default_auto_field = "django.db.models.BigAutoField"
