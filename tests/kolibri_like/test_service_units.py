"""`kolibri-like install-service`: the systemd units it writes, read back as systemd would read
them, and checked by `systemd-analyze verify` where this machine has it."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kolibri_like.server import parse_start_arguments
from kolibri_like.service_units import (CONSUMER_UNIT, SERVER_UNIT, ServiceOptions,
                                        check_user_can_run, default_output_dir,
                                        render_consumer_unit, render_server_unit,
                                        shebang_interpreter)
from tests.servers import KOLIBRI_LIKE

# `daemon` is an unprivileged account on every Debian-like system (uid 1).
SERVICE_USER = "daemon"


def run_install(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DJANGO_SETTINGS_MODULE", "KOLIBRI_LIKE_HOME", "SUDO_USER")}
    return subprocess.run([KOLIBRI_LIKE, "install-service", *arguments], env=environment,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections and their keys, each with every value in order (systemd keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"a key before any section: {line!r}"
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def verify_with_systemd(paths: list[Path]) -> None:
    """`systemd-analyze verify` prints parse problems but exits 0 for many of them, so any
    output naming our units fails the test too."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("systemd-analyze is not installed here: only our own parsing checked the units")
        return
    result = subprocess.run([analyze, "verify", *map(str, paths)], capture_output=True,
                            text=True, timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if any(path.name in line for path in paths)]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


@pytest.fixture
def installed(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    home = tmp_path / "home"
    units = tmp_path / "units"
    result = run_install(tmp_path, "--user", SERVICE_USER, "--home", str(home),
                         "--output-dir", str(units))
    assert result.returncode == 0, result.stderr
    return result, home, units


def test_it_writes_a_server_unit_and_a_consumer_unit(installed):
    result, home, units = installed
    server = parse_unit((units / SERVER_UNIT).read_text())
    consumer = parse_unit((units / CONSUMER_UNIT).read_text())
    executable = str(Path(sys.executable).with_name("kolibri-like"))

    server_command = shlex.split(server["Service"]["ExecStart"][0])
    consumer_command = shlex.split(consumer["Service"]["ExecStart"][0])
    assert server_command[0] == executable and consumer_command[0] == executable
    # The web server alone (its consumer is the other unit), on every interface.
    arguments = parse_start_arguments(server_command[2:])
    assert server_command[1] == "start" and arguments.no_consumer
    assert (arguments.host, arguments.port) == ("0.0.0.0", 8000)
    assert consumer_command[1:] == ["run_huey"]

    for unit in (server, consumer):
        service = unit["Service"]
        assert service["Restart"] == ["on-failure"]
        assert service["User"] == [SERVICE_USER]
        assert f"KOLIBRI_LIKE_HOME={home}" in [value.strip('"') for value in
                                               service["Environment"]]
        assert service["NoNewPrivileges"] == ["yes"]
        assert service["ProtectSystem"] == ["full"]
        assert str(home) in service["ReadWritePaths"][0].split()
        assert unit["Install"]["WantedBy"] == ["multi-user.target"]
    assert SERVER_UNIT in consumer["Unit"]["After"][0].split()

    assert "systemctl daemon-reload && sudo systemctl enable --now " \
           f"{SERVER_UNIT} {CONSUMER_UNIT}" in result.stdout
    assert home.is_dir()
    if os.getuid() == 0:  # only root can give the new home to the service's user
        assert home.stat().st_uid == pwd.getpwnam(SERVICE_USER).pw_uid


def test_the_consumer_command_is_one_the_program_knows():
    from django.core.management import get_commands

    assert "run_huey" in get_commands()


def test_the_written_units_pass_systemd_analyze(installed):
    _result, _home, units = installed
    verify_with_systemd([units / SERVER_UNIT, units / CONSUMER_UNIT])


def test_a_real_home_gets_a_private_tmp_and_passes_systemd_analyze(tmp_path: Path):
    # A home outside /tmp, as on a school server; rendering it creates nothing there.
    options = ServiceOptions(user=SERVICE_USER, group=SERVICE_USER,
                             home=Path("/var/lib/kolibri-like"),
                             content_dir=Path("/srv/kolibri content"),
                             executable=Path(sys.executable).with_name("kolibri-like"))
    paths = []
    for name, text in ((SERVER_UNIT, render_server_unit(options)),
                       (CONSUMER_UNIT, render_consumer_unit(options))):
        service = parse_unit(text)["Service"]
        assert service["PrivateTmp"] == ["yes"]
        # The content folder lives elsewhere (a second disk): writable too, quoted for the space.
        assert service["ReadWritePaths"] == ['/var/lib/kolibri-like "-/srv/kolibri content"']
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    verify_with_systemd(paths)


def test_a_home_in_tmp_gets_no_private_tmp_and_a_warning(installed):
    result, _home, units = installed
    assert "PrivateTmp" not in parse_unit((units / SERVER_UNIT).read_text())["Service"]
    assert "temporary folder" in result.stdout


def test_a_content_dir_from_the_homes_settings_file_is_writable(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.toml").write_text(f'CONTENT_DIR = "{tmp_path / "drive"}"\n')
    result = run_install(tmp_path, "--user", SERVICE_USER, "--home", str(home),
                         "--output-dir", str(tmp_path / "units"))
    assert result.returncode == 0, result.stderr
    service = parse_unit((tmp_path / "units" / SERVER_UNIT).read_text())["Service"]
    assert service["ReadWritePaths"][0].split() == [str(home), f"-{tmp_path / 'drive'}"]


def test_it_refuses_to_run_the_server_as_root(tmp_path: Path):
    result = run_install(tmp_path, "--user", "root", "--home", str(tmp_path / "home"),
                         "--output-dir", str(tmp_path / "units"))
    assert result.returncode == 2
    assert "unprivileged" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "units").exists()


def test_an_unknown_user_is_not_found_and_named(tmp_path: Path):
    result = run_install(tmp_path, "--user", "no-such-user-kl", "--output-dir",
                         str(tmp_path / "units"))
    assert result.returncode == 3
    assert "no-such-user-kl" in result.stderr and "useradd" in result.stderr


def test_without_systemds_folder_the_units_go_to_the_current_folder(tmp_path: Path,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_output_dir(tmp_path / "no-systemd-here") == (tmp_path, False)
    assert default_output_dir(tmp_path) == (tmp_path, True)


def test_the_interpreter_comes_from_the_scripts_first_line(tmp_path: Path):
    script = tmp_path / "kolibri-like"
    script.write_text("#!/opt/kolibri-like/bin/python3\nimport sys\n")
    assert shebang_interpreter(script) == Path("/opt/kolibri-like/bin/python3")
    script.write_text("#!/usr/bin/env sh\n")
    assert shebang_interpreter(script) == Path(shutil.which("sh"))
    script.write_bytes(b"\x7fELF")
    assert shebang_interpreter(script) is None


def test_it_warns_when_the_services_user_cannot_run_the_program(tmp_path: Path):
    if os.getuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("only root can ask the system whether another user can run a program")
    # pytest's own temporary folders are private to root (0700): the usual trap, a
    # virtualenv under /root, in miniature.
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    executable = hidden / "kolibri-like"
    executable.write_text(f"#!{sys.executable}\n")
    executable.chmod(0o755)

    warning = check_user_can_run(pwd.getpwnam(SERVICE_USER), executable)

    assert warning is not None and f"{SERVICE_USER} cannot run {executable}" in warning
    assert "/opt/kolibri-like" in warning
