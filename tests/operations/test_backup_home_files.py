"""Backup and restore carry the home's own files: the secret key, settings.toml and the --https
certificates and keys in tls/ (they exist nowhere else), restored with safe permissions."""

from __future__ import annotations

import stat
import tarfile
from pathlib import Path

import pytest

from operations.archive import CorruptArchiveError, classify_member
from operations.restore import home_file_mode
from tests.kolibri_like.test_https import HTTPSServerProcess, trusting_session
from tests.servers import ServerProcess

SETTINGS = 'SERVER_NAME = "Hill School"\n'


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.server
def test_the_https_certificates_secret_key_and_settings_come_back(tmp_path):
    school = HTTPSServerProcess(tmp_path / "school")
    school.home.mkdir(parents=True)
    (school.home / "settings.toml").write_text(SETTINGS)
    school.start()  # the first --https start makes the authority and the server certificate
    school.stop()  # not `with`: leaving it would drop the PostgreSQL database
    tls_names = sorted(path.name for path in (school.home / "tls").iterdir())
    assert {"ca.crt", "ca.key", "server.crt", "server.key"} <= set(tls_names)
    archive = tmp_path / "school.tar"
    school.run_command("backup", str(archive))
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"home/secret_key", "home/settings.toml"} | {f"home/tls/{name}" for name in
                                                          tls_names} <= names

    fresh = HTTPSServerProcess(tmp_path / "fresh")
    try:
        restored = fresh.run_command("restore", str(archive))
        assert "restored tls/ca.key" in restored.stdout + restored.stderr
        for relative in ["secret_key", "settings.toml", *[f"tls/{name}" for name in tls_names]]:
            assert (fresh.home / relative).read_bytes() == \
                (school.home / relative).read_bytes(), relative
        for relative in ("secret_key", "settings.toml", "tls/ca.key", "tls/server.key"):
            assert mode_of(fresh.home / relative) == 0o600, relative
        assert mode_of(fresh.home / "tls") == 0o700
        assert "Hill School" in fresh.run_command("settings").stdout
        # Tablets told to trust the old authority trust the restored server without a warning.
        with fresh:
            session = trusting_session(fresh)
            session.verify = str(school.authority)
            assert session.get(fresh.url + "/api/channels/", timeout=10).status_code == 200
    finally:
        fresh.stop()
        fresh.drop_database()
        school.drop_database()


@pytest.mark.server
def test_a_home_with_its_own_settings_keeps_them(tmp_path):
    school = ServerProcess(tmp_path / "school")
    school.home.mkdir(parents=True)
    (school.home / "settings.toml").write_text(SETTINGS)
    school.run_command("migrate", "--noinput")
    archive = tmp_path / "school.tar"
    school.run_command("backup", str(archive))
    fresh = ServerProcess(tmp_path / "fresh")
    fresh.home.mkdir(parents=True)
    own = 'SERVER_NAME = "Valley School"\n'
    (fresh.home / "settings.toml").write_text(own)
    try:
        restored = fresh.run_command("restore", str(archive))
        assert "kept this home's settings.toml" in restored.stdout + restored.stderr
        assert (fresh.home / "settings.toml").read_text() == own
        assert (fresh.home / "settings.toml.from-backup").read_text() == SETTINGS
        assert (fresh.home / "secret_key").read_bytes() == \
            (school.home / "secret_key").read_bytes()
    finally:
        fresh.drop_database()
        school.drop_database()


@pytest.mark.parametrize("name", ["home/tls/../secret_key", "home/tls/a/b", "home/.ssh/id_rsa",
                                  "home/db.sqlite3", "home/tls/.hidden", "home/secret_key\n"])
def test_other_home_names_are_refused(name):
    with pytest.raises(CorruptArchiveError):
        classify_member(name)


def test_keys_are_private_and_certificates_public():
    assert home_file_mode("tls/ca.key") == home_file_mode("secret_key") == 0o600
    assert home_file_mode("settings.toml") == 0o600
    assert home_file_mode("tls/ca.crt") == 0o644
