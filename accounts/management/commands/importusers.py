"""`manage.py importusers <file.csv>`: the admin page's CSV upload, from the command line.

Exit codes (INTERFACE.md): 0 every row imported; 4 some rows were bad (the good ones are kept)
or the file is not a usable user table; 3 the file does not exist; 2 bad usage.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from accounts.csv_import import MAX_FILE_BYTES, import_users
from kolibri_like.command_base import EXIT_INVALID, EXIT_NOT_FOUND, EXIT_USAGE, ProductCommand


class Command(ProductCommand):
    help = ("Create accounts from a CSV file with the header username,full_name,password,role "
            "(role empty: learner). Bad rows are listed and skipped; good rows are kept.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the CSV file (UTF-8, with or without a BOM)")

    def run(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"No such file: {path}", returncode=EXIT_NOT_FOUND)
        if not path.is_file():
            raise CommandError(f"{path} is not a file; give the CSV file itself.",
                               returncode=EXIT_USAGE)
        with path.open("rb") as handle:
            # One byte over the cap is enough for import_users to refuse the file.
            data = handle.read(MAX_FILE_BYTES + 1)
        result = import_users(data)
        for bad_row in result.bad_rows:
            self.stderr.write(f"row {bad_row.row} ({bad_row.username or 'no username'}): "
                              f"{bad_row.reason}")
        self.write_line(result.summary)
        if result.bad_rows:
            raise CommandError("Some rows were not imported (listed above); fix them and run "
                               "the command again with only those rows.", returncode=EXIT_INVALID)
