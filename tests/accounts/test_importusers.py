"""`manage.py importusers` and the CSV reading it shares with the upload: good and bad rows,
the byte-order mark, duplicates, bad roles, a missing header, files too large; exit codes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts import csv_import
from accounts.csv_import import UserFileError, import_users
from accounts.models import User

pytestmark = pytest.mark.django_db

KOLIBRI_LIKE = str(Path(sys.executable).with_name("kolibri-like"))
GOOD = ("username,full_name,password,role\n"
        "amina,Amina Khumalo,river-stone-42,learner\n"
        "bongani,Bongani Dube,lamp-orange-77,author\n"
        "chipo,,kettle-blue-19,\n")


def run_command(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("importusers", str(path), stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue() + str(error)
    return 0, out.getvalue(), err.getvalue()


def test_good_rows_become_accounts_that_sign_in(tmp_path):
    path = tmp_path / "class.csv"
    path.write_text(GOOD, encoding="utf-8")
    code, out, err = run_command(path)
    assert code == 0, err
    assert "3 accounts created, 0 bad rows." in out
    assert dict(User.objects.values_list("username", "role")) == {
        "amina": "learner", "bongani": "author", "chipo": "learner"}
    assert User.objects.get(username="amina").get_full_name() == "Amina Khumalo"
    assert Client().login(username="bongani", password="lamp-orange-77")


def test_bad_rows_are_reported_with_their_row_and_good_rows_are_kept(tmp_path, learner_user):
    path = tmp_path / "class.csv"
    path.write_text("username,full_name,password,role\n"
                    "amina,Amina,river-stone-42,learner\n"        # row 2: good
                    "AMINA,Amina again,river-stone-42,learner\n"  # row 3: duplicate in the file
                    "charlie,Charlie,river-stone-42,\n"           # row 4: exists already
                    "dudu,Dudu,river-stone-42,teacher\n"          # row 5: bad role
                    "eli,Eli,123,learner\n"                       # row 6: weak password
                    "\n"
                    "has space,F,river-stone-42,\n"               # row 8: bad username
                    "gugu,Gugu,river-stone-42,ADMIN\n",           # row 9: good, role any case
                    encoding="utf-8")
    code, out, err = run_command(path)
    assert code == 4
    assert "2 accounts created, 5 bad rows." in out
    assert "row 3 (AMINA): username: also on row 2" in err
    assert "row 4 (charlie): username: The username 'charlie' is taken." in err
    assert "row 5 (dudu): role: Choose one of admin, author, learner" in err
    assert "row 6 (eli): password:" in err and "too short" in err
    assert "row 8 (has space): username:" in err
    assert set(User.objects.values_list("username", flat=True)) == {"charlie", "amina", "gugu"}
    assert User.objects.get(username="gugu").role == "admin"


def test_a_byte_order_mark_is_read_as_utf8(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(("username,full_name,password,role\r\n"
                      "zoë,Zoë Ndlovu,river-stone-42,learner\r\n").encode("utf-8-sig"))
    assert run_command(path)[0] == 0
    assert User.objects.get(username="zoë").get_full_name() == "Zoë Ndlovu"


def test_columns_may_come_in_any_order_and_role_may_be_left_out():
    result = import_users(b"Password , USERNAME\nriver-stone-42,amina\n")
    assert result.created == ["amina"] and not result.bad_rows
    assert User.objects.get(username="amina").role == "learner"


@pytest.mark.parametrize("content, message", [
    (b"amina,Amina,river-stone-42,learner\n", "header naming the columns"),
    (b"username,full_name,role\namina,A,learner\n", "missing: password"),
    (b"", "empty"),
    ("username,password\nzoë,river-stone-42\n".encode("latin-1"), "not UTF-8"),
    (b"username,password,username\na,b,c\n", "more than once"),
])
def test_a_file_that_is_not_a_user_table_imports_nothing(content, message):
    with pytest.raises(UserFileError, match=message):
        import_users(content)
    assert not User.objects.exists()


def test_too_many_rows_or_bytes_import_nothing(monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_ROWS", 2)
    rows = "".join(f"user{index},river-stone-42\n" for index in range(3))
    with pytest.raises(UserFileError, match="more than 2 rows"):
        import_users(("username,password\n" + rows).encode())
    with pytest.raises(UserFileError, match="larger than"):
        import_users(b"username,password\n" + b"x" * csv_import.MAX_FILE_BYTES)
    assert not User.objects.exists()


def test_the_command_exit_codes(tmp_path):
    code, _out, err = run_command(tmp_path / "missing.csv")
    assert code == 3 and "No such file" in err
    code, _out, err = run_command(tmp_path)
    assert code == 2 and "not a file" in err
    header_less = tmp_path / "no-header.csv"
    header_less.write_text("amina,Amina,river-stone-42,learner\n")
    code, _out, err = run_command(header_less)
    assert code == 4 and "header" in err


def test_the_command_line_reports_bad_usage_with_exit_2(tmp_path):
    # A real `kolibri-like` process with its own home: argparse's exit code, not call_command's.
    environment = {key: value for key, value in os.environ.items()
                   if key != "DJANGO_SETTINGS_MODULE"}
    environment["KOLIBRI_LIKE_HOME"] = str(tmp_path)
    completed = subprocess.run([KOLIBRI_LIKE, "importusers"], env=environment,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "file" in completed.stderr
