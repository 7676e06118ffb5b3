"""`kolibri-like start`: prepare the server, then run the web server and the task consumer.

1. After an upgrade (migrations applied before, new ones waiting), back up the default database
   into `KOLIBRI_LIKE_HOME/backups/pre-upgrade-*` (the last few are kept); then migrate, collect
   static files, run start-up recovery (`recover`), register channel files found on disk, create
   the first admin if there is none.
2. Start the Huey consumer as a child process (so a crash in one does not take the other),
   and start it again if it dies.
3. Print the addresses learners type (every non-loopback IPv4 address when bound to all), serve
   the WSGI application with waitress until SIGINT/SIGTERM, then stop the consumer.
4. Beside it, from a thread, the sandbox origin for HTML5 apps and Flash
   (`kolibri_like/zip_app.py`) on `--zip-port` (default: the port + 1).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import shutil
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any, Callable

logger = logging.getLogger(__name__)
DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 8000
SERVER_THREADS = 16
# waitress's default of 100 open connections leaves the 101st learner's browser waiting for a
# free one (a playing video keeps its connection): 200 clients of benchmarks/file_serving.py
# had half of them wait. Each connection is one descriptor; raise_open_file_limit allows many.
SERVER_CONNECTION_LIMIT = 1000
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
# Each pre-upgrade backup is a whole copy of the default database; a small box keeps a few.
PRE_UPGRADE_BACKUPS_KEPT = 5
PRE_UPGRADE_PREFIX = "pre-upgrade-"
SQLITE_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


class UpgradeBackupError(Exception):
    """The default database could not be backed up before migrating, so nothing was migrated."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def parse_start_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kolibri-like start",
                                     description="Run the server and its task consumer.")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--zip-port", type=int, default=None,
                        help="origin for HTML5 apps (default: port + 1)")
    parser.add_argument("--no-consumer", action="store_true",
                        help="do not start the task consumer (run it elsewhere)")
    # HTTPS (kolibri_like/tls.py): browsers keep the offline app shell only for HTTPS sites.
    parser.add_argument("--https", action="store_true",
                        help="serve HTTPS, with a self-signed certificate made on first use")
    parser.add_argument("--cert", type=Path, default=None,
                        help="with --https: a certificate (PEM) to use instead")
    parser.add_argument("--key", type=Path, default=None, help="with --cert: its private key")
    arguments = parser.parse_args(argv)
    if (arguments.cert is None) != (arguments.key is None):
        parser.error("--cert and --key go together")
    if arguments.cert is not None and not arguments.https:
        parser.error("--cert and --key need --https")
    return arguments


def raise_open_file_limit() -> None:
    """Each server thread keeps up to CONTENT_DB_CONNECTIONS_PER_THREAD channel files open;
    the usual soft limit of 1024 descriptors is too low for a server with many channels."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def has_pending_upgrade() -> bool:
    """True when the default database has migrations applied and others waiting: a server that
    was upgraded. A first start (nothing applied yet) has nothing worth backing up."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return bool(plan) and bool(executor.loader.applied_migrations)


def back_up_before_upgrade(backups_dir: Path, *, keep: int = PRE_UPGRADE_BACKUPS_KEPT,
                           backup: Callable[[Path], Path] | None = None,
                           now: datetime | None = None) -> Path:
    """Back up the default database to `backups_dir/pre-upgrade-<UTC time>` and keep the last
    `keep` such backups. Raises UpgradeBackupError (and deletes nothing) if the backup fails."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    target = backups_dir / f"{PRE_UPGRADE_PREFIX}{stamp}"
    try:
        backups_dir.mkdir(parents=True, exist_ok=True)
        if backup is None:
            from operations.backup import backup_default_database

            backup = backup_default_database
        suffix = 1
        while any(backups_dir.glob(f"{target.name}*")):  # two upgrades within one second
            target = backups_dir / f"{PRE_UPGRADE_PREFIX}{stamp}-{suffix}"
            suffix += 1
        written = backup(target)
    except Exception as error:  # noqa: BLE001 - whatever failed, the migration must not run
        from kolibri_like.command_base import EXIT_IO, EXIT_UNEXPECTED, exit_code_for

        code = exit_code_for(error)
        if code == EXIT_UNEXPECTED and not isinstance(error, ImportError):
            code = EXIT_IO  # the backup's own failures are about disks and databases
        raise UpgradeBackupError(
            f"Not upgrading: backing up the default database to {target} failed "
            f"({error.__class__.__name__}: {error}). Nothing was migrated; free some space or "
            f"fix the cause, then start again.", exit_code=code,
        ) from error
    prune_backups(backups_dir, keep=keep, spare=written)
    return written


def prune_backups(backups_dir: Path, *, keep: int, spare: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` pre-upgrade backups (names sort by time); never `spare`.
    A SQLite backup's `-wal`/`-shm`/`-journal` companions go with it, never count as one."""
    found = sorted((path for path in backups_dir.glob(f"{PRE_UPGRADE_PREFIX}*")
                    if not path.name.endswith(SQLITE_COMPANION_SUFFIXES)),
                   key=lambda path: path.name)
    removed = []
    for path in found[:max(len(found) - keep, 0)]:
        if spare is not None and path.resolve() == spare.resolve():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        for suffix in SQLITE_COMPANION_SUFFIXES:
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        removed.append(path)
    return removed


def prepare_server() -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    if has_pending_upgrade():
        written = back_up_before_upgrade(Path(settings.HOME) / "backups")
        print(f"Upgrading: the default database was backed up to {written}", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0,
                 ignore_patterns=NOT_COLLECTED_STATIC)
    # Before the scan: finish what a crash left half-done, so the scan sees whole channels.
    call_command("recover")
    call_command("scanchannels")
    from accounts.services import ensure_initial_admin

    ensure_initial_admin(announce=print)


class ConsumerSupervisor:
    """Runs the task consumer as a child process and starts it again if it dies.

    A consumer killed by the kernel (out of memory on a small box) would otherwise leave every
    queued task waiting until someone restarts the server. Restarts back off up to a minute.
    """

    POLL_SECONDS = 2.0
    MAX_BACKOFF_SECONDS = 60.0

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="consumer-supervisor",
                                        daemon=True)

    def start(self) -> None:
        self.process = self._spawn()
        self._thread.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "kolibri_like.cli", "run_huey"])

    def _watch(self) -> None:
        backoff = self.POLL_SECONDS
        while not self._stopping.wait(self.POLL_SECONDS):
            if self.process is None or self.process.poll() is None:
                backoff = self.POLL_SECONDS
                continue
            code = self.process.returncode
            logger.error("the task consumer exited with %s; starting it again in %.0f s",
                         code, backoff)
            if self._stopping.wait(backoff):
                return
            self.process = self._spawn()
            self.restarts += 1
            backoff = min(backoff * 2, self.MAX_BACKOFF_SECONDS)

    def stop(self) -> None:
        self._stopping.set()
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def lan_addresses(host: str) -> list[str]:
    """The IPv4 addresses a learner's browser can reach this server at, loopback excluded:
    every interface's address when bound to all of them, else the one bound to."""
    from kolibri_like.config import machine_hosts

    candidates = machine_hosts() if host in WILDCARD_HOSTS else [host]
    addresses = set()
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:  # a host name, or an IPv6 address in brackets
            continue
        if address.version == 4 and not address.is_loopback and not address.is_unspecified:
            addresses.add(address)
    return [str(address) for address in sorted(addresses)]


def announce_addresses(host: str, port: int, write: Callable[[str], None], *,
                       scheme: str = "http") -> None:
    shown_host = "127.0.0.1" if host in WILDCARD_HOSTS else host
    write(f"kolibri-like is serving at {scheme}://{shown_host}:{port}/")
    addresses = lan_addresses(host)
    if addresses:
        write("Learners on the network open one of:")
        for address in addresses:
            write(f"  {scheme}://{address}:{port}/")
    elif host in WILDCARD_HOSTS:
        write("No network address found (is the cable in, or Wi-Fi on?); only this machine "
              "can open it until one appears.")
    else:
        write(f"Only this machine can open it (bound to {host}); start with --host 0.0.0.0 "
              f"for learners on the network.")


# --- The sandbox origin for HTML5 apps and Flash (issue 6; kolibri_like/zip_app.py) -------
ZIP_SERVER_THREADS = 8
# Static files the main site never serves, left out of collectstatic (copying and compressing
# them added seconds to every start): Ruffle's 28 MB of WebAssembly, and the EPUB and H5P
# readers with their scripts (the sandbox origin serves all of these from the source folders,
# kolibri_like/sandbox_pages.py), and the Redoc copy in the API docs' sidecar (/api/docs/ is
# Swagger UI).
NOT_COLLECTED_STATIC = ["frontend/ruffle/*", "frontend/epubjs/*", "frontend/h5p-standalone/*",
                        "frontend/sandbox/*", "drf_spectacular_sidecar/redoc/*"]


def resolve_zip_port(arguments: argparse.Namespace) -> int:
    """`--zip-port`, else the ZIP_PORT setting, else the server's port + 1."""
    from django.conf import settings

    return int(arguments.zip_port or getattr(settings, "ZIP_PORT", 0) or arguments.port + 1)


def start_sandbox_origin(host: str, port: int, https_paths: Any = None) -> Any:
    """Serve kolibri_like.zip_app on `port` from a thread and tell the pages where it is.

    Returns the server (its `close()` stops it), or None when the port cannot be had: the
    rest of the site still serves, and the message says why apps do not play.
    """
    from django.conf import settings

    from kolibri_like.zip_app import application as zip_application

    settings.ZIP_PORT = port  # read by kolibri_like.zip_app.zip_origin for every page
    try:
        if https_paths is not None:  # an http frame in an https page would be blocked
            from kolibri_like.tls import create_https_server

            zip_server: Any = create_https_server(
                zip_application, host=host, port=port, threads=ZIP_SERVER_THREADS,
                certificate=https_paths.certificate, private_key=https_paths.private_key)
        else:
            from waitress.server import create_server

            zip_server = create_server(zip_application, host=host, port=port,
                                       threads=ZIP_SERVER_THREADS, ident="kolibri-like-apps",
                                       channel_timeout=300, asyncore_use_poll=True)
    except OSError as error:
        print(f"HTML5 apps and Flash will not play: port {port} for their sandbox origin is "
              f"not available ({error}). Start with --zip-port <another port>.",
              file=sys.stderr, flush=True)
        return None

    def serve() -> None:
        try:
            zip_server.run()
        except (OSError, ValueError) as error:  # closed at shutdown, or (https) a busy port
            logger.warning("the sandbox origin on port %s stopped: %s", port, error)

    threading.Thread(target=serve, name="sandbox-origin", daemon=True).start()
    print(f"HTML5 apps and Flash play from port {port} (their sandbox origin): learners' "
          f"browsers must reach that port too.", flush=True)
    return zip_server


def start_from_argv(argv: list[str]) -> int:
    arguments = parse_start_arguments(argv)
    from operations.running import hold_server_lock, server_lock_path

    # Held for the process's life: `restore` refuses to replace the data of a running server.
    if not hold_server_lock():
        print(f"Another server is already running with this KOLIBRI_LIKE_HOME (it holds "
              f"{server_lock_path()}); stop it first, or give this one its own home.",
              file=sys.stderr)
        return 7
    raise_open_file_limit()
    try:
        prepare_server()
    except UpgradeBackupError as error:
        print(error, file=sys.stderr)
        return error.exit_code
    zip_port = resolve_zip_port(arguments)  # the sandbox origin for HTML5 apps (issue 6)
    if zip_port == arguments.port or not 0 < zip_port < 65536:
        print(f"--zip-port must be a port other than the server's ({arguments.port}); "
              f"got {zip_port}.", file=sys.stderr)
        return 2
    from waitress.server import create_server

    from kolibri_like.wsgi import application

    server: Any
    if arguments.https:  # waitress has no TLS: cheroot serves HTTPS (kolibri_like/tls.py)
        from kolibri_like.tls import CertificateError, certificate_for_start, create_https_server

        try:
            paths = certificate_for_start(arguments.cert, arguments.key,
                                          announce=lambda line: print(line, flush=True))
        except CertificateError as error:
            print(error, file=sys.stderr)
            return 4
        from django.conf import settings

        # Over TLS the browser may keep the session and CSRF cookies to https only, which
        # plain-HTTP LAN use cannot (kolibri_like/settings.py, SILENCED_SYSTEM_CHECKS).
        settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
        server = create_https_server(application, host=arguments.host, port=arguments.port,
                                     threads=SERVER_THREADS, certificate=paths.certificate,
                                     private_key=paths.private_key)
    consumer = None if arguments.no_consumer else ConsumerSupervisor()
    if consumer is not None:
        consumer.start()
    if not arguments.https:
        # poll(), not select(): select() fails once a descriptor number passes 1024, which a
        # server holding many channel files open reaches (measured: benchmarks/many_channels.py).
        server = create_server(application, host=arguments.host, port=arguments.port,
                               threads=SERVER_THREADS, ident="kolibri-like",
                               channel_timeout=300, asyncore_use_poll=True,
                               connection_limit=SERVER_CONNECTION_LIMIT)
    zip_server = start_sandbox_origin(arguments.host, zip_port,
                                      paths if arguments.https else None)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        server.close()
        # waitress's close() only closes the listening socket, and its loop runs while any
        # connection is open: with a browser's kept-alive connections (and connection.js's
        # pings on them) a stop waited for SIGKILL (measured: the 20 s of tests/servers.py).
        for channel in list(getattr(server, "_map", {}).values()):
            channel.close()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    announce_addresses(arguments.host, arguments.port, lambda line: print(line, flush=True),
                       scheme="https" if arguments.https else "http")
    # LAN discovery (issue 8; channels/transfer/discovery.py): announce this server and list the
    # servers it sees on the import page. Returns at once; without multicast it logs and retries.
    from channels.transfer.discovery import start_discovery, stop_discovery

    discovery = start_discovery(arguments.host, arguments.port,
                                scheme="https" if arguments.https else "http")
    try:
        server.run()
    except (OSError, ValueError):
        if not stopping.is_set():
            raise
    finally:
        stop_discovery(discovery)  # goodbye packets: peers drop us at once
        if zip_server is not None:
            zip_server.close()
        if consumer is not None:
            consumer.stop()
    return 0
