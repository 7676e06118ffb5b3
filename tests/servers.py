"""Real server processes for HTTP-level tests: `kolibri-like start` on 127.0.0.1.

Each server gets its own KOLIBRI_LIKE_HOME and CONTENT_DIR. When the test run itself is on
PostgreSQL (DATABASE_URL), each server gets a fresh database of its own on that server, dropped
afterwards; when REDIS_URL is set, its own queue name.

    with ServerProcess(tmp_path / "server") as server:
        server.run_command("generate_demo_channel", "--nodes", "20", "--seed", "1")
        requests.get(server.url + "/api/channels/")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Callable
from pathlib import Path

import dj_database_url

KOLIBRI_LIKE = str(Path(sys.executable).with_name("kolibri-like"))
START_TIMEOUT_SECONDS = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    def __init__(self, home: Path, *, content_dir: Path | None = None,
                 env: dict[str, str] | None = None, consumer: bool = False,
                 port: int | None = None) -> None:
        self.home = Path(home)
        self.content_dir = Path(content_dir) if content_dir else self.home / "content"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.consumer = consumer
        self.process: subprocess.Popen[bytes] | None = None
        self._database_name: str | None = None
        self.env = self._environment(env or {})
        # The sandbox origin for HTML5 apps, books and H5P (`kolibri-like start --zip-port`).
        self.zip_url = f"http://127.0.0.1:{self.env['ZIP_PORT']}"

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if key not in ("DJANGO_SETTINGS_MODULE",)}
        env.update({
            "KOLIBRI_LIKE_HOME": str(self.home),
            "CONTENT_DIR": str(self.content_dir),
            "ZEROCONF_ENABLED": "0",
            "KOLIBRI_LIKE_ADMIN_USERNAME": "admin",
            "KOLIBRI_LIKE_ADMIN_PASSWORD": "admin-pass",
            "QUEUE_NAME": f"test-{uuid.uuid4().hex[:12]}",
            # Its own free port for the HTML5 sandbox origin: port + 1 may be another server's.
            "ZIP_PORT": str(self._other_free_port()),
            "PYTHONUNBUFFERED": "1",
        })
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url.startswith(("postgres://", "postgresql://")):
            self._database_name = f"kl_server_{uuid.uuid4().hex[:12]}"
            _postgres_admin(database_url, f'CREATE DATABASE "{self._database_name}"')
            parsed = dj_database_url.parse(database_url)
            env["DATABASE_URL"] = database_url.rsplit("/", 1)[0] + "/" + self._database_name
            assert parsed["NAME"]
        env.update(extra)
        return env

    def _other_free_port(self) -> int:
        for _attempt in range(20):
            port = free_port()
            if port != self.port:
                return port
        raise AssertionError("no free port for the sandbox origin")

    def run_command(self, *arguments: str, check: bool = True,
                    timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run `kolibri-like <arguments>` with this server's home, as an admin would."""
        result = subprocess.run([KOLIBRI_LIKE, *arguments], env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kolibri-like {' '.join(arguments)} exited "
                                 f"{result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def start(self) -> ServerProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        command = [KOLIBRI_LIKE, "start", "--host", "127.0.0.1", "--port", str(self.port)]
        if not self.consumer:
            command.append("--no-consumer")
        self.log_path = self.home / "server-output.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/api/channels/", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"server did not answer within {START_TIMEOUT_SECONDS}s:\n"
                             f"{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def drop_database(self) -> None:
        if self._database_name:
            _postgres_admin(os.environ["DATABASE_URL"],
                            f'DROP DATABASE IF EXISTS "{self._database_name}" WITH (FORCE)')
            self._database_name = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self.drop_database()


def _postgres_admin(database_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(statement)


def prepared_server(home: Path,
                    *shell_code: str | Callable[[ServerProcess], str]) -> ServerProcess:
    """A server (not started yet) with its database migrated and each piece of `shell_code` run
    in `kolibri-like shell` inside it, as an admin would set one up; a callable gets the server
    (its URL, its sandbox origin) and gives the code."""
    server = ServerProcess(home)
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    for code in shell_code:
        server.run_command("shell", "-c", code(server) if callable(code) else code)
    return server
