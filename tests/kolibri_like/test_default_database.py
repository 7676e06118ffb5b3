"""The default database on SQLite is set up for many concurrent writers (DESIGN.md)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection


@pytest.mark.django_db
def test_sqlite_default_database_uses_wal_and_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("this check is about the embedded SQLite default")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    # The test database may live in memory, where WAL does not apply; the setting must ask for it.
    assert mode == "wal" or "journal_mode=WAL" in options["init_command"]


def test_postgres_url_switches_the_engine(monkeypatch, tmp_path):
    from kolibri_like.settings import _default_database

    database = _default_database("postgres://kl:secret@db.school.lan:5432/kolibri_like")
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["NAME"] == "kolibri_like"
    assert database["HOST"] == "db.school.lan"
