"""Running commands in-process: output and exit code, as a script would see them."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError


def run(*arguments: str, **options: object) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `manage.py <arguments>`."""
    out, err = StringIO(), StringIO()
    try:
        call_command(*arguments, stdout=out, stderr=err, **options)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue() + str(error)
    return 0, out.getvalue(), err.getvalue()
