from django.apps import AppConfig


class RoutersConfig(AppConfig):
    name = "routers"
    label = "routers"
    verbose_name = "Channel database routing"

    def ready(self) -> None:
        # Installs the hook that opens a channel's connection when a block makes it active.
        from routers import registry  # noqa: F401
