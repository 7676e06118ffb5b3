from django.apps import AppConfig


class RoutersConfig(AppConfig):
    name = "routers"
    label = "routers"
    verbose_name = "Channel database routing"

    def ready(self) -> None:
        # Installs the hook that opens a channel's connection when a block makes it active,
        # and per-request connection upkeep that does not walk every channel alias.
        from routers import registry  # noqa: F401
        from routers.connection_checks import install_connection_checks

        install_connection_checks()
