"""Unfinished imports as listed for the admin, and the command line's progress line."""

from __future__ import annotations

from io import StringIO

import pytest

from channels.models import ContentImport
from channels.transfer.display import TransferProgressDisplay
from channels.transfer.errors import TransferError
from channels.transfer.imports import resume_import, unfinished_imports
from channels.transfer.locking import import_lock
from tests.channels.transfer.helpers import run


@pytest.mark.django_db
def test_an_import_killed_outright_is_listed_as_stopped_with_its_resume_command(make_channel):
    build = make_channel("maths")
    row = ContentImport.objects.create(
        channel_id=build.channel_id, source_kind="disk", source="/media/my usb",
        node_ids=["a" * 32], version=build.version, files_total=6, files_done=2)
    [item] = unfinished_imports()
    assert (item.id, item.state, item.is_running) == (row.pk, "running", False)
    assert item.command == (f"kolibri-like importcontent disk {build.channel_id} "
                            f"'/media/my usb' --node_ids {'a' * 32}")
    out = run("listchannels")[1]
    assert "2/6 files, stopped (by a reboot or a kill)" in out and "Resume: " in out
    with import_lock(build.channel_id):
        [item] = unfinished_imports()
        assert item.is_running
        assert "running now" in run("listchannels")[1]
    ContentImport.objects.filter(pk=row.pk).update(state=ContentImport.State.DONE)
    assert unfinished_imports() == []


@pytest.mark.django_db
def test_resuming_an_unknown_import_says_so():
    with pytest.raises(TransferError) as caught:
        resume_import(12345)
    assert caught.value.exit_code == 3


class Stderr(StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal

    def write(self, text: str, style_func=None, ending: str = "") -> int:  # Django's signature
        return super().write(text + ending)


def test_progress_shows_files_and_bytes_on_one_line():
    clock = iter(range(0, 1000, 10))
    terminal = Stderr(terminal=True)
    display = TransferProgressDisplay(terminal, clock=lambda: float(next(clock)))
    display.update("files", 0, 4)
    display.update("bytes", 512, 2048)
    display.update("files", 4, 4)
    display.finish()
    text = terminal.getvalue()
    assert "\rfiles 4/4, 512 B of 2.0 KB (25%)" in text and text.endswith("\n")
    plain = Stderr(terminal=False)
    quiet = TransferProgressDisplay(plain, clock=lambda: 0.0)
    for done in range(100):
        quiet.update("bytes", done, 100)
    quiet.update("files", 3, 3)
    assert plain.getvalue().count("\n") == 2 and "\r" not in plain.getvalue()
