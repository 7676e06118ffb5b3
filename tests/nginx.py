"""Debian's nginx as an unprivileged process with the repository's deploy config, on 127.0.0.1.

The site config (deploy/nginx/kolibri-like.conf) is used as shipped, with its three CHANGE
values replaced: the port nginx listens on, the server's address, CONTENT_DIR/storage. A small
main config around it keeps everything (pid, logs, temp files) in one throwaway folder.

    with NginxProcess(tmp_path / "nginx", upstream_port=server.port,
                      storage_dir=server.content_dir / "storage") as nginx:
        requests.get(nginx.url + "/api/channels/")
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.servers import free_port

SITE_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "kolibri-like.conf"
SHIPPED_LISTEN = "listen 80;"
SHIPPED_UPSTREAM = "server 127.0.0.1:8000;"
SHIPPED_STORAGE = "/var/lib/kolibri-like/content/storage/"
START_TIMEOUT_SECONDS = 20
INSTALL_HINT = ("nginx is not installed: `make nginx-deps` installs Debian's nginx-light "
                "(as root, or with sudo).")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/sbin/nginx") if Path(path).exists()), None)


def render_site_config(listen_port: int, upstream_port: int, storage_dir: Path) -> str:
    """The shipped site config with its CHANGE values set; fails loudly if one is missing."""
    text = SITE_CONFIG.read_text()
    for shipped in (SHIPPED_LISTEN, SHIPPED_UPSTREAM, SHIPPED_STORAGE):
        if shipped not in text:
            raise AssertionError(f"{SITE_CONFIG} no longer contains {shipped!r}")
    return (text.replace(SHIPPED_LISTEN, f"listen 127.0.0.1:{listen_port};")
            .replace(SHIPPED_UPSTREAM, f"server 127.0.0.1:{upstream_port};")
            .replace(SHIPPED_STORAGE, f"{Path(storage_dir).resolve()}/"))


def main_config(folder: Path, workers: int) -> str:
    # `user` only counts when started as root; then the workers keep root's access to the
    # throwaway folders (mkdtemp makes them private to their owner).
    return f"""user {getpass.getuser()};
worker_processes {workers};
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/kolibri-like.conf;
}}
"""


class NginxProcess:
    def __init__(self, folder: Path, *, upstream_port: int, storage_dir: Path,
                 port: int | None = None, workers: int = 2) -> None:
        self.folder = Path(folder)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.upstream_port = upstream_port
        self.storage_dir = Path(storage_dir)
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> NginxProcess:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "kolibri-like.conf").write_text(
            render_site_config(self.port, self.upstream_port, self.storage_dir))
        config = self.folder / "nginx.conf"
        config.write_text(main_config(self.folder.resolve(), self.workers))
        self._log = open(self.folder / "output.log", "wb")
        # -e: nginx would otherwise open /var/log/nginx/error.log before reading the config.
        command = [binary, "-e", str(self.folder / "error.log"), "-p", str(self.folder),
                   "-c", str(config)]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited early:\n{self.output()}")
            try:
                # Any answer, even an error from the server behind it, means nginx listens.
                with urllib.request.urlopen(self.url + "/content/storage/", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not answer within {START_TIMEOUT_SECONDS}s:\n"
                           f"{self.output()}")

    def output(self) -> str:
        parts = []
        for name in ("output.log", "error.log"):
            path = self.folder / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the workers too
                self.process.wait(timeout=5)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> NginxProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
