"""`kolibri-like diagnostics` and the clock check: secrets never leave, a wrong clock is said."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from django.core.management import call_command

from kolibri_like.config import load_config
from operations import diagnostics
from operations.diagnostics import build_diagnostics, clock_warning, write_diagnostics

pytestmark = pytest.mark.django_db
ADMIN_PASSWORD = "hunter2-very-secret"
DATABASE_PASSWORD = "pg-pass-secret"
REDIS_PASSWORD = "redis-secret-word"


@pytest.fixture
def configured(settings, tmp_path):
    """Settings with a secret of every kind, and a log that mentions them."""
    settings.CONFIG = load_config({
        "KOLIBRI_LIKE_HOME": str(tmp_path / "home"),
        "KOLIBRI_LIKE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "DATABASE_URL": f"postgres://kl:{DATABASE_PASSWORD}@db.school.lan/kl",
        "REDIS_URL": f"redis://:{REDIS_PASSWORD}@queue.school.lan:6379/0",
    })
    settings.HOME = tmp_path / "home"
    settings.LOG_DIR = tmp_path / "logs"
    settings.LOG_DIR.mkdir()
    lines = [f"2026-01-01 line {number}" for number in range(1, 301)]
    lines[-1] += f" connect failed for {DATABASE_PASSWORD} and {ADMIN_PASSWORD}"
    lines[-2] += f" session signed with {settings.SECRET_KEY}"
    (settings.LOG_DIR / "kolibri-like.log").write_text("\n".join(lines) + "\n")
    (settings.LOG_DIR / "consumer.log").write_text("consumer started\n")
    return settings


def test_it_redacts_every_secret_and_keeps_the_rest(configured):
    text = build_diagnostics()
    for secret in (ADMIN_PASSWORD, DATABASE_PASSWORD, REDIS_PASSWORD, configured.SECRET_KEY):
        assert secret not in text
    assert "DATABASE_URL = postgres://kl:***@db.school.lan/kl" in text
    assert "KOLIBRI_LIKE_ADMIN_PASSWORD = ***" in text
    assert "connect failed for *** and ***" in text


def test_it_holds_versions_channels_failures_and_the_last_200_log_lines(configured,
                                                                       make_channel):
    from jobs.models import Job

    built = make_channel("maths")
    Job.objects.create(kind="import", state=Job.State.FAILED, error="the drive was removed")
    text = build_diagnostics()
    assert "django 5.2" in text and "sqlite 3." in text and "python 3." in text
    assert f"{built.channel_id}  Maths  version 1  available" in text
    assert "import" in text and "the drive was removed" in text
    assert "2026-01-01 line 101" in text and "2026-01-01 line 300" in text
    assert "2026-01-01 line 100\n" not in text
    assert "consumer started" in text
    assert "== Disk space ==" in text and "free of" in text


def test_the_clock_is_right_when_nothing_is_newer_than_now():
    assert clock_warning() is None


def test_a_clock_earlier_than_the_newest_channel_version_is_wrong(monkeypatch, make_channel):
    built = make_channel("maths")
    # Three days behind: earlier than the version just published.
    monkeypatch.setattr(diagnostics, "current_time",
                        lambda: dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3))
    warning = clock_warning()
    assert warning is not None and "The clock looks wrong" in warning
    assert f"channel {built.channel_id} version 1" in warning
    assert "The clock looks wrong" in build_diagnostics()


def test_a_clock_before_this_installation_is_wrong_even_with_no_data(monkeypatch):
    monkeypatch.setattr(diagnostics, "current_time",
                        lambda: dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc))
    warning = clock_warning()
    assert warning is not None and "2001-01-01" in warning


def test_the_file_is_private_and_the_command_says_where(configured, tmp_path, capsys):
    path = write_diagnostics(None)
    assert path.parent == configured.HOME / "diagnostics"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    target = tmp_path / "for-support.txt"
    call_command("diagnostics", str(target))
    assert str(target) in capsys.readouterr().out
    assert "== Settings (secrets redacted) ==" in target.read_text()


def test_admin_pages_warn_admins_when_the_clock_is_wrong(monkeypatch, client, admin_user,
                                                        author_user):
    monkeypatch.setattr(diagnostics, "current_time",
                        lambda: dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc))
    client.force_login(admin_user)
    page = client.get("/admin/channels/").content.decode()
    assert 'role="alert"' in page and "The clock looks wrong" in page
    assert "The clock looks wrong" not in client.get("/").content.decode()
    client.force_login(author_user)
    assert "The clock looks wrong" not in client.get("/admin/channels/").content.decode()
