"""Create many accounts from one CSV file: the admin page's upload, `POST /api/users/import/` and
`manage.py importusers` all call `import_users`.

The file is UTF-8 (a spreadsheet's byte-order mark is fine) with a header line naming the
columns `username`, `full_name`, `password`, `role` (any order; `username` and `password` are
required, `role` empty means learner). Good rows become accounts; each bad row is reported with
its row number (the header is row 1, as a spreadsheet shows it) and why, and creates nothing.

    result = import_users(Path("class-5b.csv").read_bytes())
    result.created            # ["amina", "bongani"]
    result.bad_rows           # [BadRow(row=4, username="amina", reason="username: ... taken")]

A file that cannot be read as such a table (no header, not UTF-8, too large, too many rows)
raises UserFileError and creates nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.utils.translation import gettext, ngettext

from accounts.models import User
from accounts.services import AccountInputError, create_account

# A class list is a few hundred lines; hashing each password takes a noticeable fraction of a
# second on a small server, so a request must not be asked for more than this.
MAX_FILE_BYTES = 1024 * 1024
MAX_ROWS = 1000
REQUIRED_COLUMNS = ("username", "password")
KNOWN_COLUMNS = ("username", "full_name", "password", "role")


class UserFileError(Exception):
    """The whole file is unusable; nothing was imported."""

    exit_code = 4  # invalid input (INTERFACE.md)


@dataclass(frozen=True)
class BadRow:
    row: int
    username: str
    reason: str


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)

    @property
    def summary(self) -> str:
        created = ngettext("%(count)s account created", "%(count)s accounts created",
                           len(self.created)) % {"count": len(self.created)}
        bad = ngettext("%(count)s bad row", "%(count)s bad rows",
                       len(self.bad_rows)) % {"count": len(self.bad_rows)}
        return gettext("%(created)s, %(bad)s.") % {"created": created, "bad": bad}


@dataclass(frozen=True)
class UserRow:
    row: int
    username: str
    full_name: str
    password: str
    role: str


def read_user_rows(data: bytes) -> list[UserRow]:
    """The data rows of the file, checked as a whole (size, encoding, header, row count)."""
    if len(data) > MAX_FILE_BYTES:
        raise UserFileError(gettext("The file is larger than %(size)s KiB; split it into files "
                                    "of at most %(rows)s rows.")
                            % {"size": MAX_FILE_BYTES // 1024, "rows": MAX_ROWS})
    try:
        # utf-8-sig drops the byte-order mark spreadsheets write, and reads files without one.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UserFileError(gettext("The file is not UTF-8 text (byte %(byte)s); save it as "
                                    "\"CSV UTF-8\".") % {"byte": error.start}) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise UserFileError(gettext("The file is empty; the first line must be the header "
                                        "username,full_name,password,role."))
        columns = [name.strip().lower() for name in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise UserFileError(gettext(
                "The first line must be a header naming the columns %(columns)s "
                "(missing: %(missing)s).")
                % {"columns": ",".join(KNOWN_COLUMNS), "missing": ", ".join(missing)})
        duplicated = sorted({name for name in columns if name and columns.count(name) > 1})
        if duplicated:
            raise UserFileError(gettext("The header names %(columns)s more than once.")
                                % {"columns": ", ".join(duplicated)})
        position = {name: columns.index(name) for name in KNOWN_COLUMNS if name in columns}
        rows: list[UserRow] = []
        for record_number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue  # blank lines, often at the end of an exported sheet
            if len(rows) >= MAX_ROWS:
                raise UserFileError(gettext("The file has more than %(rows)s rows; split it.")
                                    % {"rows": MAX_ROWS})

            def cell(name: str, record: list[str] = record) -> str:
                index = position.get(name)
                return record[index] if index is not None and index < len(record) else ""

            rows.append(UserRow(row=record_number, username=cell("username").strip(),
                                full_name=cell("full_name").strip(), password=cell("password"),
                                role=cell("role").strip().lower() or User.Role.LEARNER))
    except csv.Error as error:
        raise UserFileError(gettext("The file is not valid CSV: %(error)s.")
                            % {"error": error}) from None
    return rows


def import_users(data: bytes) -> ImportResult:
    """Create an account for every good row; report every bad one. See the module docstring."""
    result = ImportResult()
    seen: dict[str, int] = {}
    for user_row in read_user_rows(data):
        key = user_row.username.lower()
        if key and key in seen:
            result.bad_rows.append(BadRow(user_row.row, user_row.username,
                                          gettext("username: also on row %(row)s of this file.")
                                          % {"row": seen[key]}))
            continue
        if key:
            seen[key] = user_row.row
        try:
            create_account(user_row.username, full_name=user_row.full_name, role=user_row.role,
                           password=user_row.password)
        except AccountInputError as error:
            result.bad_rows.append(BadRow(user_row.row, user_row.username, str(error)))
        else:
            result.created.append(user_row.username)
    return result
