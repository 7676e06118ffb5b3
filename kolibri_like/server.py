"""`kolibri-like start`: prepare the server, then run the web server and the task consumer.

1. Migrate the default database, collect static files, run start-up recovery (`recover`),
   register channel files found on disk, create the first admin if there is none.
2. Start the Huey consumer as a child process (so a crash in one does not take the other),
   and start it again if it dies.
3. Serve the WSGI application with waitress until SIGINT/SIGTERM, then stop the consumer.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import threading
from types import FrameType

logger = logging.getLogger(__name__)
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


def start_from_argv(argv: list[str]) -> int:
    arguments = parse_start_arguments(argv)
    raise_open_file_limit()
    prepare_server()
    from waitress.server import create_server

    from kolibri_like.wsgi import application

    consumer = None if arguments.no_consumer else ConsumerSupervisor()
    if consumer is not None:
        consumer.start()
    # poll(), not select(): select() fails once a descriptor number passes 1024, which a server
    # holding many channel files open reaches (measured: benchmarks/many_channels.py).
    server = create_server(application, host=arguments.host, port=arguments.port,
                           threads=SERVER_THREADS, ident="kolibri-like",
                           channel_timeout=300, asyncore_use_poll=True)
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
            consumer.stop()
    return 0
