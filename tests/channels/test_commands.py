"""The channel commands of issue 2: generate_demo_channel, setupdemo, listchannels.

Called in-process with `call_command` (exit codes are CommandError.returncode) and once as the
real `kolibri-like` program in a subprocess with its own home and content folder.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from channels.demo.tree import demo_channel_id
from channels.models import Channel
from channels.progress import PlainProgressLines, TerminalProgressBar, human_size
from routers.registry import channel_database_path
from tests.servers import KOLIBRI_LIKE, ServerProcess

STORED_NAME = re.compile(r"[0-9a-f]{32}\.[0-9a-z]+")
API_FIELDS = {"id", "name", "description", "version", "version_label", "root_id", "node_count",
              "total_size", "thumbnail"}


class TerminalStringIO(StringIO):
    def isatty(self) -> bool:
        return True


def run(*arguments: str, stderr: StringIO | None = None) -> tuple[str, str]:
    out, err = StringIO(), stderr if stderr is not None else StringIO()
    call_command(*arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_generate_demo_channel_prints_the_channel_id_last():
    out, err = run("generate_demo_channel", "--nodes", "12", "--seed", "4")
    channel_id = out.strip().splitlines()[-1]
    assert channel_id == demo_channel_id(4)
    assert "12 nodes" in out
    channel = Channel.objects.get(id=channel_id)
    assert channel.node_count == 12 and channel.state == "available"
    assert channel.name == "Demo: Health"
    # Not a terminal: plain progress lines, no carriage returns.
    assert "media generated: 7/7 (100%, " in err
    assert "files stored: " in err and "nodes written: 12/12 (100%, " in err
    assert "\r" not in err


@pytest.mark.django_db
def test_generate_demo_channel_takes_a_name_and_draws_a_bar_on_a_terminal():
    out, err = run("generate_demo_channel", "--nodes", "8", "--seed", "2", "--name",
                   "Fractions for beginners", stderr=TerminalStringIO())
    assert Channel.objects.get(id=out.split()[-1]).name == "Fractions for beginners"
    assert "\rnodes written" in err and "100%\n" in err
    assert "\x1b[" not in err  # progress is not coloured like an error


@pytest.mark.django_db
@pytest.mark.parametrize("nodes", ["0", "4", "-1", "1000001"])
def test_bad_node_counts_exit_2(nodes):
    with pytest.raises(CommandError) as caught:
        run("generate_demo_channel", "--nodes", nodes)
    assert caught.value.returncode == 2
    assert "--nodes must be between" in str(caught.value)
    assert not Channel.objects.exists()


@pytest.mark.django_db
def test_a_missing_configured_ffmpeg_exits_2(settings, tmp_path):
    settings.FFMPEG_BINARY = str(tmp_path / "bin" / "ffmpeg")
    with pytest.raises(CommandError) as caught:
        run("generate_demo_channel", "--nodes", "10")
    assert caught.value.returncode == 2
    assert "FFMPEG_BINARY" in str(caught.value)


@pytest.mark.django_db
def test_listchannels_shows_nodes_size_and_state(make_channel):
    maths = make_channel("maths")
    Channel.objects.create(id="f" * 32, name="broken.sqlite3", state=Channel.State.REJECTED,
                           problem="quick_check failed: database disk image is malformed")
    out, _err = run("listchannels")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "VERSION", "NODES", "SIZE", "STATE"]
    maths_line = next(line for line in lines if line.startswith(maths.channel_id))
    assert "Maths" in maths_line and maths_line.endswith("available")
    assert f" {maths.node_count} " in maths_line
    assert human_size(Channel.objects.get(id=maths.channel_id).total_size) in maths_line
    assert any(line.startswith("f" * 32) and line.endswith(
        "rejected: quick_check failed: database disk image is malformed") for line in lines)
    assert lines[-1] == "2 channel(s)."


@pytest.mark.django_db
def test_listchannels_json_has_the_api_fields_and_state(make_channel):
    maths = make_channel("maths")
    out, _err = run("listchannels", "--json")
    listing = json.loads(out)
    assert len(listing) == 1
    assert set(listing[0]) == API_FIELDS | {"state", "problem", "unfinished_imports"}
    assert listing[0]["unfinished_imports"] == []
    assert listing[0]["id"] == maths.channel_id
    assert listing[0]["node_count"] == maths.node_count
    assert listing[0]["state"] == "available" and listing[0]["problem"] == ""


@pytest.mark.django_db
def test_listchannels_with_nothing_installed_says_how_to_start():
    out, _err = run("listchannels")
    assert "No channels installed" in out
    assert json.loads(run("listchannels", "--json")[0]) == []


@pytest.mark.django_db
def test_setupdemo_creates_the_demo_channels_once_only(settings, tmp_path):
    settings.HOME = tmp_path / "home"
    out, _err = run("setupdemo")
    names = set(Channel.objects.values_list("name", flat=True))
    assert names == {"Demo: Science", "Demo: Mathematics"}
    assert "Created demo channel" in out
    marker = settings.HOME / "demo-created"
    assert {entry["id"] for entry in json.loads(marker.read_text())["channels"]} == set(
        Channel.objects.values_list("id", flat=True))

    out, _err = run("setupdemo")
    assert "nothing to do" in out
    assert Channel.objects.count() == 2

    # The admin deletes the demo channels: they must not come back on the next start.
    for channel in Channel.objects.all():
        channel_database_path(channel.id).unlink()
        channel.delete()
    out, _err = run("setupdemo")
    assert "nothing to do" in out
    assert not Channel.objects.exists()


def test_plain_progress_lines_are_few_and_end_each_stage():
    lines: list[str] = []
    clock = iter(range(0, 10_000, 1))  # one second per update
    reporter = PlainProgressLines(lines.append, lambda: None, clock=lambda: float(next(clock)))
    for done in range(1, 1001):
        reporter.update("files", done, 1000)
    reporter.update("nodes", 5, 5)
    assert lines[0] == "files stored: 1/1,000 (0%, 0.0 s)\n"
    assert lines[1] == "files stored: 100/1,000 (10%, 99.0 s)\n"
    assert lines[-2] == "files stored: 1,000/1,000 (100%, 999.0 s)\n"
    assert lines[-1] == "nodes written: 5/5 (100%, 0.0 s)\n"
    assert len(lines) == 12


def test_the_terminal_bar_redraws_in_place():
    written: list[str] = []
    now = [0.0]
    bar = TerminalProgressBar(written.append, lambda: None, clock=lambda: now[0])
    for done in range(1, 101):
        now[0] += 0.05
        bar.update("nodes", done, 100)
    bar.finish()
    text = "".join(written)
    assert text.count("\n") == 1 and text.endswith("100%\n")
    assert 10 <= text.count("\r") <= 60
    assert "[" + "#" * 30 + "]" in text


def test_human_sizes():
    assert [human_size(size) for size in (0, 1023, 1536, 5 * 1024 ** 2, 3 * 1024 ** 4)] == [
        "0 B", "1023 B", "1.5 KB", "5.0 MB", "3.0 TB"]


def test_the_kolibri_like_program_lists_channels_as_json(tmp_path):
    server = ServerProcess(tmp_path / "home", content_dir=tmp_path / "content")
    try:
        server.run_command("migrate", "--no-input", "-v", "0")
        assert json.loads(server.run_command("listchannels", "--json").stdout) == []
        generated = server.run_command("generate_demo_channel", "--nodes", "9", "--seed", "3")
        channel_id = generated.stdout.strip().splitlines()[-1]
        assert (tmp_path / "content" / "databases" / f"{channel_id}.sqlite3").is_file()
        listing = json.loads(server.run_command("listchannels", "--json").stdout)
        assert [(row["id"], row["name"], row["node_count"], row["state"]) for row in listing] == [
            (channel_id, "Demo: Geography", 9, "available")]
        assert set(listing[0]) >= API_FIELDS
        refused = server.run_command("generate_demo_channel", "--nodes", "2", check=False)
        assert refused.returncode == 2 and "--nodes must be between" in refused.stderr
        unparsable = server.run_command("generate_demo_channel", "--nodes", "many", check=False)
        assert unparsable.returncode == 2
        _interrupt_a_big_generation(server)
        listing = json.loads(server.run_command("listchannels", "--json").stdout)
        assert [row["id"] for row in listing] == [channel_id]
    finally:
        server.drop_database()


def _interrupt_a_big_generation(server: ServerProcess) -> None:
    """SIGTERM while files are being stored: exit 130, no channel installed, nothing half-made
    in the store or the databases folder."""
    log_path = server.home / "interrupted-generation.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [KOLIBRI_LIKE, "generate_demo_channel", "--nodes", "6000", "--seed", "5"],
            env=server.env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if "files stored" in log_path.read_text():
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    err = log_path.read_text()
    assert process.returncode == 130, err
    assert "Interrupted" in err
    # Half-written files may only be in the temp area (purged on start-up), never served.
    assert not (server.content_dir / "databases" / f"{demo_channel_id(5)}.sqlite3").exists()
    stored = [path for path in (server.content_dir / "storage").rglob("*") if path.is_file()]
    assert stored and all(STORED_NAME.fullmatch(path.name) for path in stored)
