"""Channel connections: the per-thread bound, freshness after a file swap, missing files."""

from __future__ import annotations

import os
import queue
import threading
import uuid
from pathlib import Path
from typing import Callable

import pytest
from django.db import connections

from channels.builder import ChannelSpec, NodeSpec, store_files, write_channel_database
from channels.services import install_channel_database
from content.models import ContentNode
from routers.context import (
    get_active_content_database,
    reset_active_content_database,
    set_active_content_database,
    using_content_database,
)
from routers.errors import ChannelDatabaseNotFoundError
from routers.registry import (
    activate_channel_connection,
    channel_database_path,
    complete_database_settings,
    open_channel_connection_count,
    read_only_database_settings,
    register_alias,
    unregister_alias,
)
from storage.paths import temp_root

pytestmark = pytest.mark.django_db


def open_database_descriptors(folder: Path) -> int:
    """How many file descriptors of this process point into `folder` (Linux /proc)."""
    count = 0
    for entry in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith(str(folder)):
            count += 1
    return count


def root_title() -> str:
    return ContentNode.objects.get(parent=None).title


def build_next_version(channel_id: str, label: str) -> Path:
    """Write a new version of `channel_id` into the temp area (not installed yet)."""
    spec = ChannelSpec(name=label.title(), id=channel_id,
                       root=NodeSpec(title=f"{label} root", kind="topic", children=[
                           NodeSpec(title=f"{label} child", kind="topic")]))
    store_files(spec)
    temp_root().mkdir(parents=True, exist_ok=True)
    path = temp_root() / f"next-{uuid.uuid4().hex}.sqlite3"
    write_channel_database(spec, path)
    return path


class ChannelReader(threading.Thread):
    """A long-lived thread that keeps its connections between jobs, like a server thread."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.jobs: queue.Queue[Callable[[], object] | None] = queue.Queue()
        self.results: queue.Queue[object] = queue.Queue()
        self.start()

    def run(self) -> None:
        try:
            for _ in range(1000):
                job = self.jobs.get(timeout=30)
                if job is None:
                    return
                try:
                    self.results.put(job())
                except Exception as error:  # handed back to the test
                    self.results.put(error)
        finally:
            connections.close_all()

    def ask(self, job: Callable[[], object]) -> object:
        self.jobs.put(job)
        result = self.results.get(timeout=30)
        if isinstance(result, Exception):
            raise result
        return result

    def stop(self) -> None:
        self.jobs.put(None)
        self.join(timeout=30)


def test_each_thread_keeps_at_most_the_bound_open(make_channel, settings, content_dir):
    settings.CONTENT_DB_CONNECTIONS_PER_THREAD = 2
    channels = [make_channel(f"c{index}", topics=1, leaves=1) for index in range(5)]
    databases = content_dir / "databases"
    baseline = open_database_descriptors(databases)
    for _round in range(2):
        for channel in channels:
            with using_content_database(channel.channel_id):
                assert root_title() == f"c{channels.index(channel)} root"
            assert open_channel_connection_count() <= 2
            assert open_database_descriptors(databases) - baseline <= 2
    assert open_channel_connection_count() == 2


def test_the_least_recently_used_connection_is_the_one_closed(make_channel, settings):
    settings.CONTENT_DB_CONNECTIONS_PER_THREAD = 2
    first, second, third = (make_channel(label, topics=1, leaves=1)
                            for label in ("first", "second", "third"))
    for channel in (first, second, first, third):
        with using_content_database(channel.channel_id):
            root_title()
    assert connections[first.channel_id].connection is not None
    assert connections[second.channel_id].connection is None
    assert connections[third.channel_id].connection is not None


def test_the_bound_never_closes_a_channel_an_outer_block_is_reading(make_channel, settings):
    """A cross-channel loop inside a request must not reopen the request's channel on a newer
    file: the outer reader would see two versions."""
    settings.CONTENT_DB_CONNECTIONS_PER_THREAD = 2
    outer = make_channel("outer", topics=1, leaves=1)
    others = [make_channel(f"other{index}", topics=1, leaves=1) for index in range(4)]
    with using_content_database(outer.channel_id):
        assert root_title() == "outer root"
        wrapper = connections[outer.channel_id].connection
        os.replace(build_next_version(outer.channel_id, "newer"), outer.path)
        for channel in others:
            with using_content_database(channel.channel_id):
                assert root_title() == f"other{others.index(channel)} root"
                assert open_channel_connection_count() <= 3  # the bound, plus the outer one
        assert connections[outer.channel_id].connection is wrapper
        assert root_title() == "outer root"
    with using_content_database(outer.channel_id):
        assert root_title() == "newer root"


def test_a_bound_of_one_still_serves_nested_blocks(make_channel, settings):
    settings.CONTENT_DB_CONNECTIONS_PER_THREAD = 1
    first, second = make_channel("first"), make_channel("second")
    with using_content_database(first.channel_id):
        assert root_title() == "first root"
        with using_content_database(second.channel_id):
            assert root_title() == "second root"
            assert open_channel_connection_count() == 2
        assert root_title() == "first root"
    with using_content_database(second.channel_id):
        assert root_title() == "second root"
    assert open_channel_connection_count() == 1


def test_the_bound_holds_in_every_thread(make_channel, settings):
    settings.CONTENT_DB_CONNECTIONS_PER_THREAD = 3
    channels = [make_channel(f"c{index}", topics=1, leaves=1) for index in range(6)]
    readers = [ChannelReader() for _ in range(4)]
    try:
        for reader in readers:
            for channel in channels:
                reader.ask(using_content_database(channel.channel_id)(root_title))
            assert reader.ask(open_channel_connection_count) == 3
    finally:
        for reader in readers:
            reader.stop()


def test_an_atomically_replaced_file_is_read_by_the_next_block(make_channel):
    channel = make_channel("old")
    with using_content_database(channel.channel_id):
        assert root_title() == "old root"
    install_channel_database(build_next_version(channel.channel_id, "new"), channel.channel_id)
    with using_content_database(channel.channel_id):
        assert root_title() == "new root"
        assert ContentNode.objects.count() == 2


def test_a_file_renamed_by_another_process_is_noticed_without_a_release(make_channel):
    """No `release_channel_connections` here (another process did the swap): the file's identity
    changed, and that alone makes the next block reopen."""
    channel = make_channel("old")
    with using_content_database(channel.channel_id):
        assert root_title() == "old root"
    os.replace(build_next_version(channel.channel_id, "new"),
               channel_database_path(channel.channel_id))
    with using_content_database(channel.channel_id):
        assert root_title() == "new root"


def test_a_block_open_during_the_swap_keeps_reading_one_version(make_channel):
    channel = make_channel("old")
    with using_content_database(channel.channel_id):
        assert root_title() == "old root"
        os.replace(build_next_version(channel.channel_id, "new"),
                   channel_database_path(channel.channel_id))
        # The open connection holds the old file: the block never sees a mix.
        assert root_title() == "old root"
        assert ContentNode.objects.count() == channel.node_count
    with using_content_database(channel.channel_id):
        assert root_title() == "new root"


@pytest.mark.parametrize("install", ["service", "rename"])
def test_another_thread_sees_the_replaced_file_without_restart(make_channel, install):
    channel = make_channel("old")
    reader = ChannelReader()
    read_root = using_content_database(channel.channel_id)(root_title)
    try:
        assert reader.ask(read_root) == "old root"
        assert reader.ask(open_channel_connection_count) == 1  # kept open, as a server does
        next_version = build_next_version(channel.channel_id, "new")
        if install == "service":
            install_channel_database(next_version, channel.channel_id)
        else:
            os.replace(next_version, channel_database_path(channel.channel_id))
        assert reader.ask(read_root) == "new root"
        assert reader.ask(read_root) == "new root"
    finally:
        reader.stop()


def test_a_missing_file_raises_and_creates_nothing(content_dir):
    databases = content_dir / "databases"
    channel_id = uuid.uuid4().hex
    with pytest.raises(ChannelDatabaseNotFoundError):
        with using_content_database(channel_id):
            pass  # pragma: no cover - never entered
    with pytest.raises(ChannelDatabaseNotFoundError):
        activate_channel_connection(channel_id)
    assert get_active_content_database() is None
    assert list(databases.iterdir()) == []


def test_a_registered_alias_whose_file_went_away_creates_nothing(make_channel, content_dir):
    channel = make_channel("gone")
    with using_content_database(channel.channel_id):
        root_title()
    channel.path.unlink()
    with pytest.raises(ChannelDatabaseNotFoundError):
        with using_content_database(channel.channel_id):
            pass  # pragma: no cover - never entered
    # Even a query forced through the stale registration opens read-only and creates nothing.
    token = set_active_content_database(channel.channel_id)
    try:
        with pytest.raises(Exception, match="unable to open"):
            root_title()
    finally:
        reset_active_content_database(token)
    assert not channel.path.exists()
    # Only the kept versions and their search indexes remain; no served file was created.
    assert sorted(path.name for path in (content_dir / "databases").iterdir()) == [
        "search", "versions"]


def test_the_read_only_settings_open_as_a_read_only_uri(tmp_path):
    database_settings = read_only_database_settings(tmp_path / ("a" * 32 + ".sqlite3"))
    assert database_settings["NAME"].startswith("file:") and database_settings["NAME"].endswith(
        "?mode=ro")
    assert database_settings["OPTIONS"]["uri"] is True
    # A complete dict: Django fills defaults only at start-up.
    for key in ("ATOMIC_REQUESTS", "AUTOCOMMIT", "CONN_HEALTH_CHECKS", "TIME_ZONE", "TEST"):
        assert key in database_settings


def test_registering_while_another_thread_lists_connections_is_safe():
    """Django lists `connections.settings` at every request start and end, in every thread.

    Registering a channel alias must not change that dict under an iterating thread
    ("dictionary changed size during iteration").
    """
    template = complete_database_settings({"ENGINE": "django.db.backends.sqlite3",
                                           "NAME": "file:/nonexistent?mode=ro",
                                           "OPTIONS": {"uri": True}})
    errors: list[BaseException] = []
    stop = threading.Event()

    def list_connections() -> None:
        for _ in range(1_000_000):
            if stop.is_set():
                return
            try:
                connections.all(initialized_only=True)
            except RuntimeError as error:
                errors.append(error)
                return

    lister = threading.Thread(target=list_connections)
    lister.start()
    aliases = [f"build-{index:032x}-race" for index in range(5000)]
    try:
        for alias in aliases:
            register_alias(alias, dict(template))
    finally:
        stop.set()
        lister.join(timeout=30)
        for alias in aliases:
            unregister_alias(alias)
    assert errors == []


def test_unregistering_forgets_this_threads_connection_object(make_channel, tmp_path):
    first, second = make_channel("first"), make_channel("second")
    alias = f"build-{uuid.uuid4().hex}-test"
    register_alias(alias, read_only_database_settings(first.path))
    try:
        assert ContentNode.objects.using(alias).get(parent=None).title == "first root"
        unregister_alias(alias)
        register_alias(alias, read_only_database_settings(second.path))
        assert ContentNode.objects.using(alias).get(parent=None).title == "second root"
    finally:
        unregister_alias(alias)
