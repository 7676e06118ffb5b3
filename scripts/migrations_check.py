"""Fail when a model change has no migration (`makemigrations --check`), before the tests run."""

from __future__ import annotations

import os
import sys
import tempfile


def main() -> int:
    os.environ.setdefault("KOLIBRI_LIKE_HOME", tempfile.mkdtemp(prefix="kolibri-like-check-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kolibri_like.settings")
    import django
    from django.core.management import call_command

    django.setup()
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=1)
    except SystemExit as exit_status:
        print("A model changed without a migration: run `kolibri-like makemigrations`.",
              file=sys.stderr)
        return int(exit_status.code or 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
