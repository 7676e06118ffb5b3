"""`manage.py check --deploy` passes with the production settings, silencing only what plain
HTTP on a LAN must accept; `start --https` turns the secure-cookie settings on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kolibri_like.test_https import HTTPSServerProcess, trusting_session
from tests.servers import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
# Each one has its reason next to it in kolibri_like/settings.py; a new one needs a reason too.
ACCEPTED_ON_PLAIN_HTTP = {"security.W004", "security.W008", "security.W012", "security.W016",
                          "security.W019"}


def deploy_check(home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DJANGO_SETTINGS_MODULE", "DEBUG")}
    env.update(KOLIBRI_LIKE_HOME=str(home), DJANGO_SETTINGS_MODULE="kolibri_like.settings",
               ZEROCONF_ENABLED="0", **extra)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                           "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_deploy_check_passes_with_the_production_settings(tmp_path):
    result = deploy_check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"no issues ({len(ACCEPTED_ON_PLAIN_HTTP)} silenced)" in result.stdout


def test_only_the_plain_http_warnings_are_silenced_and_only_in_production():
    from django.conf import settings

    assert set(settings.SILENCED_SYSTEM_CHECKS) == ACCEPTED_ON_PLAIN_HTTP
    assert settings.SESSION_COOKIE_HTTPONLY and settings.SECURE_CONTENT_TYPE_NOSNIFF
    assert len(settings.SECRET_KEY) >= 50


def test_debug_mode_fails_the_deploy_check(tmp_path):
    # The check is real: the development switch left on is caught, with nothing silenced.
    result = deploy_check(tmp_path, DEBUG="1")
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout


@pytest.mark.server
def test_plain_http_cookies_are_not_secure_and_https_cookies_are(tmp_path):
    with ServerProcess(tmp_path / "plain") as plain:
        plain.run_command("migrate", "--noinput")
        cookie = _csrf_set_cookie(plain.url + "/login/", verify=True)
        assert "Secure" not in cookie
    secure_server = HTTPSServerProcess(tmp_path / "tls")
    secure_server.home.mkdir(parents=True)
    secure_server.run_command("migrate", "--noinput")
    with secure_server:
        session = trusting_session(secure_server)
        page = session.get(secure_server.url + "/login/", timeout=10)
        assert page.status_code == 200
        assert "Secure" in page.headers["Set-Cookie"]


def _csrf_set_cookie(url: str, *, verify: bool) -> str:
    import requests

    session = requests.Session()
    session.trust_env = False
    page = session.get(url, timeout=10, verify=verify)
    assert page.status_code == 200
    return page.headers["Set-Cookie"]
