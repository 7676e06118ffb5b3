from __future__ import annotations

from pathlib import Path

import pytest

from kolibri_like.config import ConfigError, load_config, parse_size, redact


def test_it_uses_embedded_defaults_under_home(tmp_path: Path):
    config = load_config({"KOLIBRI_LIKE_HOME": str(tmp_path)})
    assert config.content_dir == tmp_path / "content"
    assert config.database_url == f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert config.allow_guest_access is True
    assert config.debug is False
    assert config.max_upload_size == 4 * 1024**3
    assert config.sources["CONTENT_DIR"] == "default"


def test_the_environment_wins_over_the_settings_file(tmp_path: Path):
    (tmp_path / "settings.toml").write_text('DEBUG = true\nSERVER_NAME = "room-12"\n'
                                            'MAX_UPLOAD_SIZE = "512M"\n')
    config = load_config({"KOLIBRI_LIKE_HOME": str(tmp_path), "SERVER_NAME": "library"})
    assert config.debug is True
    assert config.sources["DEBUG"] == str(tmp_path / "settings.toml")
    assert config.server_name == "library"
    assert config.sources["SERVER_NAME"] == "environment"
    assert config.max_upload_size == 512 * 1024**2


@pytest.mark.parametrize("name,value", [("DEBUG", "maybe"), ("MAX_UPLOAD_SIZE", "lots"),
                                        ("MAX_UPLOAD_SIZE", "-1"),
                                        ("CONTENT_DB_CONNECTIONS_PER_THREAD", "0")])
def test_it_refuses_bad_values_naming_the_setting(tmp_path: Path, name: str, value: str):
    with pytest.raises(ConfigError, match=name):
        load_config({"KOLIBRI_LIKE_HOME": str(tmp_path), name: value})


def test_it_refuses_unknown_names_in_the_settings_file(tmp_path: Path):
    (tmp_path / "settings.toml").write_text("DEBUGG = true\n")
    with pytest.raises(ConfigError, match="DEBUGG"):
        load_config({"KOLIBRI_LIKE_HOME": str(tmp_path)})


def test_it_refuses_a_broken_settings_file(tmp_path: Path):
    (tmp_path / "settings.toml").write_text("DEBUG = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config({"KOLIBRI_LIKE_HOME": str(tmp_path)})


def test_sizes_take_binary_suffixes():
    assert parse_size("X", "4G") == 4 * 1024**3
    assert parse_size("X", "4GiB") == 4 * 1024**3
    assert parse_size("X", "1048576") == 1024**2


def test_passwords_in_urls_are_hidden():
    assert redact("postgres://kl:secret@db:5432/kl") == "postgres://kl:***@db:5432/kl"
    assert redact("plain-secret") == "***"
    assert "secret" not in dict(
        (name, value) for name, value, _ in load_config(
            {"KOLIBRI_LIKE_HOME": "/nonexistent-home",
             "KOLIBRI_LIKE_ADMIN_PASSWORD": "secret"}).display_items()
    )["KOLIBRI_LIKE_ADMIN_PASSWORD"]
