"""The `kolibri-like` command: `start`, `settings`, and every management command by name.

    kolibri-like start --host 127.0.0.1 --port 8000
    kolibri-like settings
    kolibri-like install-service --user kolibri --home /var/lib/kolibri-like
    kolibri-like listchannels          # same as `python manage.py listchannels`
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kolibri_like.settings")
    from kolibri_like.config import ConfigError

    try:
        if len(argv) > 1 and argv[1] == "settings":
            return print_settings()
        if len(argv) > 1 and argv[1] == "start":
            from kolibri_like.server import start_from_argv

            return start_from_argv(argv[2:])
        if len(argv) > 1 and argv[1] in ("install-service", "install_service"):
            # Not a Django command: it needs no database, only the configuration.
            from kolibri_like.service_units import install_service_from_argv

            return install_service_from_argv(argv[2:])
        if len(argv) > 1 and not argv[1].startswith("-") and argv[1] != "help":
            if not command_exists(argv[1]):
                print(f"Unknown command: {argv[1]!r}. Run `kolibri-like help` for the list.",
                      file=sys.stderr)
                return 2
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
        return 0
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


def command_exists(name: str) -> bool:
    import django
    from django.core.management import get_commands

    django.setup()
    return name in get_commands()


def print_settings() -> int:
    from kolibri_like.config import load_config

    config = load_config()
    rows = config.display_items()
    width = max(len(name) for name, _value, _source in rows)
    for name, value, source in rows:
        print(f"{name.ljust(width)}  {value}    ({source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
