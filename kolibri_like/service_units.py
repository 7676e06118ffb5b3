"""`kolibri-like install-service`: systemd units that start the server on boot.

Two units, so that a crash or restart of one leaves the other running: `kolibri-like.service`
runs the web server (`start --no-consumer`: it migrates, recovers and serves) and
`kolibri-like-consumer.service` runs the task consumer (`run_huey`: imports, exports, video
encoding). Both restart on failure, run as an unprivileged user and see the system read-only
except their home (and the content folder, when settings.toml puts it elsewhere).

    kolibri-like install-service --user kolibri --home /var/lib/kolibri-like
    systemctl daemon-reload && systemctl enable --now kolibri-like.service kolibri-like-consumer.service
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SERVER_UNIT = "kolibri-like.service"
CONSUMER_UNIT = "kolibri-like-consumer.service"
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
TEMPORARY_FOLDERS = (Path("/tmp"), Path("/var/tmp"))
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_IO = 6


class ServiceSetupError(Exception):
    """The units cannot be written as asked; the message says what to do instead."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class ServiceOptions:
    user: str
    group: str
    home: Path
    content_dir: Path
    executable: Path
    host: str = "0.0.0.0"
    port: int = 8000


def quote_path(path: Path) -> str:
    """systemd splits ExecStart= like a shell; a path with spaces needs quotes."""
    text = str(path)
    return f'"{text}"' if any(character.isspace() for character in text) else text


def _service_section(options: ServiceOptions, command: list[str], *,
                     nice: int | None = None) -> list[str]:
    writable = [quote_path(options.home)]
    if not options.content_dir.is_relative_to(options.home):
        # "-": a drive that is not mounted yet must not stop the server from starting.
        writable.append(quote_path(Path("-" + str(options.content_dir))))
    lines = [
        "[Service]",
        "Type=simple",
        f"User={options.user}",
        f"Group={options.group}",
        f'Environment="KOLIBRI_LIKE_HOME={options.home}"',
        "Environment=PYTHONUNBUFFERED=1",
        f"WorkingDirectory={options.home}",  # the rest of the line: no quotes
        "ExecStart=" + " ".join([quote_path(options.executable), *command]),
        "Restart=on-failure",
        "RestartSec=5",
        # The server closes its connections and the consumer stops its encoder on SIGTERM.
        "TimeoutStopSec=30",
        # Many channel databases stay open per server thread (start raises its soft limit too).
        "LimitNOFILE=65536",
        "NoNewPrivileges=yes",
        "ProtectSystem=full",
        # Read-only, not hidden: the program itself may live in a virtualenv under /home.
        "ProtectHome=read-only",
        "ReadWritePaths=" + " ".join(writable),
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "RestrictSUIDSGID=yes",
        "UMask=0027",
    ]
    if not in_temporary_folder(options.home):
        # A private /tmp would hide a home that lives under /tmp (only ever a trial install).
        lines.insert(lines.index("NoNewPrivileges=yes") + 1, "PrivateTmp=yes")
    if nice is not None:
        lines.append(f"Nice={nice}")
    return lines


def in_temporary_folder(path: Path) -> bool:
    return any(path.is_relative_to(folder) for folder in TEMPORARY_FOLDERS)


def render_server_unit(options: ServiceOptions) -> str:
    command = ["start", "--no-consumer", "--host", options.host, "--port", str(options.port)]
    lines = [
        "[Unit]",
        "Description=kolibri-like content server (web)",
        # After the network so that the LAN addresses printed at start are the real ones.
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        *_service_section(options, command),
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def render_consumer_unit(options: ServiceOptions) -> str:
    lines = [
        "[Unit]",
        "Description=kolibri-like task consumer (imports, exports, video encoding)",
        # The server migrates the database at start; ordering after it (not requiring it) lets
        # either one restart alone.
        f"After=network-online.target {SERVER_UNIT}",
        "Wants=network-online.target",
        "",
        # Video encoding takes every core it can; learners' page loads come first.
        *_service_section(options, ["run_huey"], nice=10),
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def write_units(options: ServiceOptions, output_dir: Path) -> list[Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in ((SERVER_UNIT, render_server_unit(options)),
                       (CONSUMER_UNIT, render_consumer_unit(options))):
        path = output_dir / name
        partial = path.with_name(f".{name}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.chmod(0o644)
        os.replace(partial, path)
        written.append(path)
    return written


def default_output_dir(system_dir: Path = SYSTEM_UNIT_DIR) -> tuple[Path, bool]:
    """(folder, is_system): systemd's own folder when we may write there, else the current one."""
    if system_dir.is_dir() and os.access(system_dir, os.W_OK):
        return system_dir, True
    return Path.cwd(), False


def resolve_user(name: str | None) -> pwd.struct_passwd:
    """The account to run as: the one named, else whoever ran `sudo`, else the current user.
    Root is refused: a bug in a web server reachable by every learner must not own the box."""
    if name is None:
        name = os.environ.get("SUDO_USER") or pwd.getpwuid(os.getuid()).pw_name
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        raise ServiceSetupError(
            f"There is no user {name!r}. Create one first, for example:\n"
            f"  useradd --system --create-home --home-dir /var/lib/kolibri-like "
            f"--shell /usr/sbin/nologin {name}", exit_code=EXIT_NOT_FOUND) from None
    if account.pw_uid == 0:
        raise ServiceSetupError(
            f"Refusing to run the server as {name!r} (uid 0): choose an unprivileged user with "
            f"--user, for example: useradd --system --create-home --home-dir "
            f"/var/lib/kolibri-like --shell /usr/sbin/nologin kolibri")
    return account


def find_executable() -> Path:
    """The `kolibri-like` beside this Python (the virtualenv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("kolibri-like")
    if beside.is_file():
        return beside.absolute()
    found = shutil.which("kolibri-like")
    if found is None:
        raise ServiceSetupError("Cannot find the kolibri-like program to run; install the "
                                "package first.", exit_code=EXIT_NOT_FOUND)
    return Path(found).absolute()


def prepare_home(home: Path, account: pwd.struct_passwd) -> str | None:
    """Create the home for the service's user; returns a warning when it belongs to someone else
    (the service could not write its database there)."""
    if not home.exists():
        home.mkdir(parents=True, mode=0o750)
        if os.getuid() == 0:
            os.chown(home, account.pw_uid, account.pw_gid)
        else:
            return None
    owner = home.stat().st_uid
    if owner != account.pw_uid:
        return (f"{home} belongs to uid {owner}, not to {account.pw_name}: the service cannot "
                f"write there. Fix it with: chown -R {account.pw_name}: {shlex.quote(str(home))}")
    return None


def shebang_interpreter(executable: Path) -> Path | None:
    """The Python a console script runs with (its `#!` line), or None for a binary."""
    try:
        with open(executable, "rb") as script:
            first_line = script.readline(4096)
    except OSError:
        return None
    if not first_line.startswith(b"#!"):
        return None
    words = first_line[2:].decode(errors="replace").split()
    if len(words) > 1 and Path(words[0]).name == "env":  # `#!/usr/bin/env python3`
        found = shutil.which(words[1])
        return Path(found) if found else None
    return Path(words[0]) if words else None


def check_user_can_run(account: pwd.struct_passwd, executable: Path) -> str | None:
    """Can the service's user start the program? Asked of the system as that user (only root
    can). A virtualenv under /root (mode 0700) is the usual trap: the units install fine and
    then fail at every boot. Returns a warning, or None when it works or cannot be asked."""
    runuser = shutil.which("runuser")
    if os.getuid() != 0 or runuser is None:
        return None
    interpreter = shebang_interpreter(executable) or Path(sys.executable)
    probe = ("import os, sys; import kolibri_like.cli; "
             "sys.exit(0 if os.access(sys.argv[1], os.X_OK) else 'cannot execute ' + sys.argv[1])")
    try:
        result = subprocess.run([runuser, "-u", account.pw_name, "--", str(interpreter), "-c",
                                 probe, str(executable)],
                                cwd="/", env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"could not check that {account.pw_name} can run {executable}: {error}"
    if result.returncode == 0:
        return None
    reason = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
    return (f"{account.pw_name} cannot run {executable} ({reason}), so the services would fail "
            f"at every start. Install kolibri-like where that user can read it (for example "
            f"`sudo sh install-offline.sh /opt/kolibri-like`) and run install-service from "
            f"there.")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="kolibri-like install-service",
        description="Write systemd units that start the server and its task consumer on boot.")
    parser.add_argument("--user", default=None,
                        help="unprivileged account to run as (default: the user who ran sudo, "
                             "else you); root is refused")
    parser.add_argument("--home", type=Path, default=None,
                        help="KOLIBRI_LIKE_HOME of the service (default: $KOLIBRI_LIKE_HOME, "
                             "else ~user/.kolibri-like)")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help=f"where to write the units (default: {SYSTEM_UNIT_DIR} if "
                             f"writable, else the current folder)")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8000)
    return parser.parse_args(argv)


def install_service_from_argv(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    try:
        return install_service(arguments)
    except ServiceSetupError as error:
        print(error, file=sys.stderr)
        return error.exit_code
    except OSError as error:
        print(f"Could not write the units: {error}", file=sys.stderr)
        return EXIT_IO


def install_service(arguments: argparse.Namespace) -> int:
    from kolibri_like.config import load_config

    account = resolve_user(arguments.user)
    if arguments.home is not None:
        home = arguments.home
    elif os.environ.get("KOLIBRI_LIKE_HOME"):
        home = Path(os.environ["KOLIBRI_LIKE_HOME"])
    else:
        home = Path(account.pw_dir) / ".kolibri-like"
    home = home.expanduser().absolute()
    executable = find_executable()
    warnings = [prepare_home(home, account), check_user_can_run(account, executable)]
    if in_temporary_folder(home):
        warnings.append(f"{home} is in a temporary folder, which is emptied on boot: fine for "
                        f"a trial, not for a school server (use --home /var/lib/kolibri-like).")
    # The service reads settings.toml from its home, never this shell's environment: only a
    # CONTENT_DIR set there tells which other folder it must be allowed to write.
    config = load_config({"KOLIBRI_LIKE_HOME": str(home)})
    options = ServiceOptions(user=account.pw_name, group=grp.getgrgid(account.pw_gid).gr_name,
                             home=home, content_dir=config.content_dir.absolute(),
                             executable=executable, host=arguments.host, port=arguments.port)
    if arguments.output_dir is not None:
        output_dir, is_system = arguments.output_dir, arguments.output_dir == SYSTEM_UNIT_DIR
    else:
        output_dir, is_system = default_output_dir()
    written = write_units(options, output_dir.absolute())
    for path in written:
        print(f"Wrote {path}")
    for warning in warnings:
        if warning:
            print(f"Warning: {warning}")
    names = " ".join(path.name for path in written)
    print("")
    if not is_system:
        if arguments.output_dir is None:
            print(f"{SYSTEM_UNIT_DIR} is not writable (run this with sudo to write there), so "
                  f"the units are in the current folder.")
        print(f"Copy them into {SYSTEM_UNIT_DIR}:")
        quoted = " ".join(shlex.quote(str(path)) for path in written)
        print(f"  sudo cp {quoted} {SYSTEM_UNIT_DIR}/")
    print("Then start them now and on every boot:")
    print(f"  sudo systemctl daemon-reload && sudo systemctl enable --now {names}")
    print(f"Settings go in {home / 'settings.toml'} (the services do not see this shell's "
          f"environment). Logs: journalctl -u {SERVER_UNIT} -u {CONSUMER_UNIT}")
    return 0
