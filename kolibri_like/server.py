"""`kolibri-like start`: prepare the server, then run the web server and the task consumer.

1. Migrate the default database, collect static files, register channel files found on disk,
   create the first admin if there is none.
2. Start the Huey consumer as a child process (so a crash in one does not take the other).
3. Serve the WSGI application with waitress until SIGINT/SIGTERM, then stop the consumer.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from types import FrameType

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 8000
SERVER_THREADS = 16


def parse_start_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kolibri-like start",
                                     description="Run the server and its task consumer.")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--zip-port", type=int, default=None,
                        help="origin for HTML5 apps (default: port + 1)")
    parser.add_argument("--no-consumer", action="store_true",
                        help="do not start the task consumer (run it elsewhere)")
    return parser.parse_args(argv)


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


def prepare_server() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("scanchannels")
    from accounts.services import ensure_initial_admin

    ensure_initial_admin(announce=print)


def start_consumer() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "kolibri_like.cli", "run_huey"])


def start_from_argv(argv: list[str]) -> int:
    arguments = parse_start_arguments(argv)
    raise_open_file_limit()
    prepare_server()
    from waitress.server import create_server

    from kolibri_like.wsgi import application

    consumer = None if arguments.no_consumer else start_consumer()
    server = create_server(application, host=arguments.host, port=arguments.port,
                           threads=SERVER_THREADS, ident="kolibri-like",
                           channel_timeout=300)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        server.close()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    shown_host = "127.0.0.1" if arguments.host in ("0.0.0.0", "::") else arguments.host
    print(f"kolibri-like is serving at http://{shown_host}:{arguments.port}/", flush=True)
    try:
        server.run()
    except (OSError, ValueError):
        if not stopping.is_set():
            raise
    finally:
        if consumer is not None:
            consumer.terminate()
            try:
                consumer.wait(timeout=15)
            except subprocess.TimeoutExpired:
                consumer.kill()
    return 0
