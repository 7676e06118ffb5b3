"""Fixtures for the proof against the real Kolibri: its venv (built once per run, cached under
`.cache/`), a fresh provisioned KOLIBRI_HOME per test, and a channel of ours on a drive.

Building the venv fails the tests with the reason (never skips): a test run on a fresh machine
must prove interoperability, not quietly leave it out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.kolibri_env import KolibriEnv, KolibriEnvError, ensure_kolibri_env
from tests.interop.kolibri import KolibriHome
from tests.servers import ServerProcess

DEMO_NODES = "30"
DEMO_SEED = "9"


@pytest.fixture(scope="session")
def kolibri_env() -> KolibriEnv:
    try:
        return ensure_kolibri_env()
    except KolibriEnvError as error:
        pytest.fail(f"the Kolibri 0.19.5 environment could not be built: {error}", pytrace=False)


@pytest.fixture
def kolibri_home(kolibri_env: KolibriEnv, tmp_path: Path) -> KolibriHome:
    """A fresh KOLIBRI_HOME: migrated, provisioned, with no channel yet."""
    return KolibriHome.provision(kolibri_env, tmp_path / "kolibri-home")


@dataclass(frozen=True)
class OurChannel:
    """A demo channel built on one of our servers (not started: commands only)."""

    server: ServerProcess
    channel_id: str

    @property
    def database_path(self) -> Path:
        return self.server.content_dir / "databases" / f"{self.channel_id}.sqlite3"

    @property
    def storage_dir(self) -> Path:
        return self.server.content_dir / "storage"


@pytest.fixture
def our_channel(tmp_path: Path) -> Iterator[OurChannel]:
    """`generate_demo_channel --nodes 30 --seed 9` on a throwaway home: topics, videos with
    captions, audio, documents and thumbnails, with real media."""
    server = ServerProcess(tmp_path / "ours")
    try:
        server.run_command("migrate", "--noinput", "-v", "0")
        generated = server.run_command("generate_demo_channel", "--nodes", DEMO_NODES,
                                       "--seed", DEMO_SEED)
        yield OurChannel(server=server, channel_id=generated.stdout.strip().splitlines()[-1])
    finally:
        server.drop_database()
