"""A task goes through a real queue (SQLite file, or Redis when REDIS_URL is set) to a real
consumer process, and its result comes back to the process that enqueued it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from channels.tasks import scan_channels_task
from tests.servers import KOLIBRI_LIKE, ServerProcess

ENQUEUE = (
    "import json; from channels.tasks import scan_channels_task; "
    "print(json.dumps(scan_channels_task()(blocking=True, timeout=60)))"
)


@pytest.mark.django_db
def test_the_task_scans_channels_inline(make_channel):
    built = make_channel("inline")
    result = scan_channels_task()
    assert result.get() == {"registered": [], "rejected": {}, "missing": [], "unchanged": 1}
    assert built.channel_id


@pytest.mark.server
def test_a_real_consumer_runs_the_task(tmp_path: Path):
    environment = ServerProcess(tmp_path / "server")
    consumer = None
    try:
        environment.run_command("migrate", "--noinput")
        bad_file = environment.content_dir / "databases" / ("ab" * 16 + ".sqlite3")
        bad_file.parent.mkdir(parents=True, exist_ok=True)
        bad_file.write_bytes(b"not a database at all" * 100)
        consumer = subprocess.Popen([KOLIBRI_LIKE, "run_huey"], env=environment.env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
        result = environment.run_command("shell", "-c", ENQUEUE, timeout=120)
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        assert answer["registered"] == []
        assert "ab" * 16 in answer["rejected"]
        assert consumer.poll() is None, "the consumer died"
    finally:
        if consumer is not None and consumer.poll() is None:
            os.killpg(consumer.pid, signal.SIGTERM)
            consumer.wait(timeout=20)
        environment.drop_database()
