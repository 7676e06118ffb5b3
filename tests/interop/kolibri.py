"""One adapter for the real Kolibri (0.19.5, in its own venv): its commands and its HTTP server.

Each `KolibriHome` is a fresh KOLIBRI_HOME, migrated and provisioned, with pings, zeroconf and
every listening socket kept on this machine (127.0.0.1). Kolibri pins Django 3.2, so it only
ever runs as a subprocess of its own venv; nothing of ours is on its path.

    home = KolibriHome.provision(kolibri_env, tmp_path / "kolibri")
    home.manage("importchannel", "disk", channel_id, str(drive / "KOLIBRI_DATA"))
    with home.server() as base_url:
        channels = get_json(base_url + "/api/content/channel/")
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scripts.kolibri_env import KolibriEnv
from tests.interop.channel_rows import NodeFileRow, NodeRow
from tests.servers import free_port

COMMAND_TIMEOUT_SECONDS = 180
SERVER_START_TIMEOUT_SECONDS = 90
SERVER_STOP_TIMEOUT_SECONDS = 20
HTTP_TIMEOUT_SECONDS = 20
FACILITY_NAME = "Interop School"
SUPERUSER_NAME = "admin"
SUPERUSER_PASSWORD = "admin-pass-interop"
# Our own environment must not leak into Kolibri's: pytest-django's DJANGO_SETTINGS_MODULE
# would make Kolibri load our settings, and any KOLIBRI_* variable is a Kolibri option.
_STRIPPED_VARIABLES = ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


class KolibriCommandError(AssertionError):
    """A Kolibri command failed; the message holds its exit status and the end of its output."""


class KolibriHome:
    """A KOLIBRI_HOME of its own, and the environment every Kolibri process here runs with."""

    def __init__(self, kolibri_env: KolibriEnv, home: Path) -> None:
        self.kolibri_env = kolibri_env
        self.home = Path(home)
        self.env = self._environment()

    @classmethod
    def provision(cls, kolibri_env: KolibriEnv, home: Path) -> KolibriHome:
        """A migrated, provisioned Kolibri (facility, superuser), as an admin's first start makes."""
        kolibri_home = cls(kolibri_env, home)
        kolibri_home.home.mkdir(parents=True, exist_ok=True)
        kolibri_home.manage("migrate")
        kolibri_home.manage("provisiondevice", "--facility", FACILITY_NAME,
                            "--superusername", SUPERUSER_NAME,
                            "--superuserpassword", SUPERUSER_PASSWORD,
                            "--preset", "nonformal", "--language_id", "en", "--noinput")
        return kolibri_home

    def _environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if key not in _STRIPPED_VARIABLES and not key.startswith("KOLIBRI_")}
        env.update({
            "KOLIBRI_HOME": str(self.home),
            "KOLIBRI_DISABLE_PING": "1",
            "KOLIBRI_ZEROCONF_ENABLED": "0",
            "KOLIBRI_LISTEN_ADDRESS": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    @property
    def storage_dir(self) -> Path:
        return self.home / "content" / "storage"

    @property
    def databases_dir(self) -> Path:
        return self.home / "content" / "databases"

    def manage(self, *arguments: str,
               timeout: float = COMMAND_TIMEOUT_SECONDS) -> subprocess.CompletedProcess[str]:
        """`kolibri manage <arguments>`; a non-zero exit fails with Kolibri's own message."""
        return self.run("manage", *arguments, timeout=timeout)

    def run(self, *arguments: str,
            timeout: float = COMMAND_TIMEOUT_SECONDS) -> subprocess.CompletedProcess[str]:
        command = [str(self.kolibri_env.kolibri), *arguments]
        try:
            result = subprocess.run(command, env=self.env, capture_output=True, text=True,
                                    timeout=timeout, cwd=self.home)
        except subprocess.TimeoutExpired as error:
            raise KolibriCommandError(f"kolibri {' '.join(arguments)} did not finish within "
                                      f"{timeout:.0f}s") from error
        if result.returncode != 0:
            raise KolibriCommandError(
                f"kolibri {' '.join(arguments)} exited {result.returncode}:\n"
                f"{_tail(result.stdout)}\n{_tail(result.stderr)}")
        return result

    @contextmanager
    def server(self) -> Iterator[str]:
        """Run `kolibri start --foreground` on 127.0.0.1 and yield its base URL; stop it after.

        The wait for the first answer is bounded; the server runs in a session of its own so
        that stopping it stops its children too (and nothing else).
        """
        port, zip_port = free_port(), free_port()
        for _ in range(20):  # two probes can hand out the same free port
            if zip_port != port:
                break
            zip_port = free_port()
        env = {**self.env, "KOLIBRI_ZIP_CONTENT_PORT": str(zip_port)}
        log_path = self.home / "kolibri-server.log"
        base_url = f"http://127.0.0.1:{port}"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(self.kolibri_env.kolibri), "start", "--foreground", "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.home,
                start_new_session=True)
            try:
                _wait_until_answering(process, base_url + "/api/content/channel/", log_path)
                yield base_url
            finally:
                _stop(process)

    def stored_file_checksums(self) -> dict[str, str]:
        """`{storage file name: MD5 of its bytes}` for every file in this Kolibri's storage."""
        return checksums_of_files(self.storage_dir)


def checksums_of_files(storage_dir: Path) -> dict[str, str]:
    import hashlib

    checksums: dict[str, str] = {}
    for path in sorted(storage_dir.rglob("*")):
        if path.is_file():
            digest = hashlib.md5()
            with open(path, "rb") as stored:
                for chunk in iter(lambda: stored.read(1 << 20), b""):
                    digest.update(chunk)
            checksums[path.name] = digest.hexdigest()
    return checksums


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:
        return json.load(response)


def get_bytes(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:
        return bytes(response.read())


def walk_kolibri_tree(base_url: str, root_id: str, *,
                      limit: int) -> tuple[dict[str, NodeRow], set[NodeFileRow]]:
    """Every node Kolibri lists under `root_id`, one `?parent=` request per topic, as Kolibri's
    own browse page asks; stops with a failure past `limit` nodes (no endless walk). Kolibri
    lists only the nodes it has available (all their files imported, of kinds it knows)."""
    root = get_json(f"{base_url}/api/content/contentnode/{root_id}/")
    nodes: dict[str, NodeRow] = {}
    files: set[NodeFileRow] = set()
    queue: deque[dict[str, Any]] = deque([root])
    while queue:
        node = queue.popleft()
        assert len(nodes) < limit, f"Kolibri lists more than the {limit} nodes we exported"
        nodes[node["id"]] = NodeRow(node["parent"], node["title"], node["kind"])
        for listed_file in node["files"]:
            lang = listed_file["lang"]
            files.add(NodeFileRow(node["id"], listed_file["checksum"], listed_file["extension"],
                                  listed_file["preset"], listed_file["supplementary"],
                                  listed_file["thumbnail"], lang["id"] if lang else None))
        if node["kind"] == "topic":
            children = get_json(f"{base_url}/api/content/contentnode/?parent={node['id']}")
            queue.extend(children["results"] if isinstance(children, dict) else children)
    return nodes, files


def _wait_until_answering(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise KolibriCommandError(f"kolibri start exited {process.returncode}:\n"
                                      f"{_tail(log_path.read_text(errors='replace'))}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise KolibriCommandError(f"kolibri start did not answer within "
                              f"{SERVER_START_TIMEOUT_SECONDS}s:\n"
                              f"{_tail(log_path.read_text(errors='replace'))}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _tail(text: str, limit: int = 4000) -> str:
    return text[-limit:]
