"""The `kolibri-like` command as an admin runs it: a real subprocess with its own home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

KOLIBRI_LIKE = str(Path(sys.executable).with_name("kolibri-like"))


def run(home: Path, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items()
                   if key != "DJANGO_SETTINGS_MODULE"}
    environment.update({"KOLIBRI_LIKE_HOME": str(home), **env})
    return subprocess.run([KOLIBRI_LIKE, *arguments], env=environment, capture_output=True,
                          text=True, timeout=120)


def test_settings_lists_every_setting_with_its_source(tmp_path: Path):
    (tmp_path / "settings.toml").write_text('SERVER_NAME = "room-12"\n')
    result = run(tmp_path, "settings", ALLOW_GUEST_ACCESS="0")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    for name in ("KOLIBRI_LIKE_HOME", "CONTENT_DIR", "DATABASE_URL", "REDIS_URL", "DEBUG",
                 "ALLOWED_HOSTS", "SERVER_NAME", "ALLOW_GUEST_ACCESS", "MAX_UPLOAD_SIZE",
                 "ZEROCONF_ENABLED", "FFMPEG_BINARY", "KOLIBRI_LIKE_ADMIN_USERNAME",
                 "KOLIBRI_LIKE_ADMIN_PASSWORD"):
        assert name in lines
    assert "room-12" in lines["SERVER_NAME"] and "settings.toml" in lines["SERVER_NAME"]
    assert "False" in lines["ALLOW_GUEST_ACCESS"] and "(environment)" in lines[
        "ALLOW_GUEST_ACCESS"]


def test_a_bad_setting_is_a_usage_error_not_a_traceback(tmp_path: Path):
    result = run(tmp_path, "settings", DEBUG="perhaps")
    assert result.returncode == 2
    assert "DEBUG" in result.stderr
    assert "Traceback" not in result.stderr


def test_management_commands_run_by_name(tmp_path: Path):
    migrated = run(tmp_path, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    scanned = run(tmp_path, "scanchannels")
    assert scanned.returncode == 0, scanned.stderr
    assert "0 channel(s) served" in scanned.stdout


def test_an_unknown_command_is_a_usage_error(tmp_path: Path):
    result = run(tmp_path, "no-such-command")
    assert result.returncode == 2
    assert "Unknown command" in result.stderr
