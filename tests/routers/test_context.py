"""The active content database as context state: get/set/reset, blocks, decorators, threads.

The first tests replace the activation hook with a recorder, so they test `routers.context`
alone (no files, no Django connections); the last ones read real channel files.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import pytest
from django.db import connections

from content.models import ContentNode
from routers import context
from routers.context import (
    active_content_databases,
    get_active_content_database,
    reset_active_content_database,
    set_active_content_database,
    using_content_database,
)
from routers.errors import InvalidChannelIdError

MATHS = "a" * 32
SCIENCE = "b" * 32


@pytest.fixture
def activations(monkeypatch) -> Iterator[list[str]]:
    """Record activations instead of opening channel files."""
    seen: list[str] = []
    monkeypatch.setattr(context, "_activation_hook", seen.append)
    yield seen


def test_nothing_is_active_by_default():
    assert get_active_content_database() is None


def test_set_and_reset_restore_the_previous_value():
    outer = set_active_content_database(MATHS)
    try:
        assert get_active_content_database() == MATHS
        inner = set_active_content_database(SCIENCE)
        assert get_active_content_database() == SCIENCE
        reset_active_content_database(inner)
        assert get_active_content_database() == MATHS
    finally:
        reset_active_content_database(outer)
    assert get_active_content_database() is None


def test_setting_none_clears_the_active_database():
    outer = set_active_content_database(MATHS)
    inner = set_active_content_database(None)
    assert get_active_content_database() is None
    reset_active_content_database(inner)
    reset_active_content_database(outer)


def test_it_works_as_a_context_manager(activations):
    with using_content_database(MATHS) as alias:
        assert alias == MATHS
        assert get_active_content_database() == MATHS
    assert get_active_content_database() is None
    assert activations == [MATHS]


def test_it_works_as_a_decorator(activations):
    @using_content_database(SCIENCE)
    def active() -> str | None:
        return get_active_content_database()

    assert active() == SCIENCE
    assert active() == SCIENCE
    assert get_active_content_database() is None


@pytest.mark.parametrize("outer, inner", [(MATHS, SCIENCE), (SCIENCE, MATHS)])
def test_nested_blocks_restore_the_outer_one_in_both_orders(activations, outer, inner):
    with using_content_database(outer):
        with using_content_database(inner):
            assert get_active_content_database() == inner
        assert get_active_content_database() == outer
    assert get_active_content_database() is None


@pytest.mark.parametrize("outer, inner", [(MATHS, SCIENCE), (SCIENCE, MATHS)])
def test_a_decorated_call_inside_a_block_restores_the_block(activations, outer, inner):
    @using_content_database(inner)
    def active() -> str | None:
        return get_active_content_database()

    with using_content_database(outer):
        assert active() == inner
        assert get_active_content_database() == outer


def test_a_block_inside_a_decorated_call_restores_the_call(activations):
    @using_content_database(MATHS)
    def nested() -> tuple[str | None, str | None]:
        with using_content_database(SCIENCE):
            inside = get_active_content_database()
        return inside, get_active_content_database()

    assert nested() == (SCIENCE, MATHS)


def test_an_inner_block_for_the_same_channel_does_not_reactivate_it(activations):
    # Reactivation would pick up a newly installed file halfway through the outer block.
    with using_content_database(MATHS):
        with using_content_database(MATHS):
            pass
    assert activations == [MATHS]


def test_a_channel_read_by_an_enclosing_block_is_not_reactivated(activations):
    with using_content_database(MATHS):
        with using_content_database(SCIENCE):
            with using_content_database(MATHS):
                assert active_content_databases() == {MATHS, SCIENCE}
    assert activations == [MATHS, SCIENCE]
    assert active_content_databases() == frozenset()


def test_the_request_channel_counts_as_in_use(activations):
    token = set_active_content_database(MATHS)  # as the middleware does
    try:
        with using_content_database(SCIENCE):
            assert active_content_databases() == {MATHS, SCIENCE}
            with using_content_database(MATHS):
                pass
    finally:
        reset_active_content_database(token)
    assert activations == [SCIENCE]


def test_one_block_object_entered_by_8_threads_at_once(activations):
    """A module-level block object shared by threads: each leaves with its own token."""
    shared_block = using_content_database(MATHS)
    start = threading.Barrier(8, timeout=10)

    def run(index: int) -> list[str | None]:
        start.wait()
        observed: list[str | None] = []
        for _ in range(50):
            with shared_block:
                observed.append(get_active_content_database())
                time.sleep(0.0005)
            observed.append(get_active_content_database())
        return observed

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(8), timeout=60))
    for observed in results:
        assert observed == [MATHS, None] * 50


def test_the_same_manager_can_be_nested_in_itself(activations):
    block = using_content_database(MATHS)
    with block:
        with using_content_database(SCIENCE):
            with block:
                assert get_active_content_database() == MATHS
            assert get_active_content_database() == SCIENCE
        assert get_active_content_database() == MATHS
    assert get_active_content_database() is None


@pytest.mark.parametrize("outer, inner", [(MATHS, SCIENCE), (SCIENCE, MATHS)])
def test_an_exception_restores_the_outer_value(activations, outer, inner):
    with using_content_database(outer):
        with pytest.raises(RuntimeError):
            with using_content_database(inner):
                raise RuntimeError("the view failed")
        assert get_active_content_database() == outer
    assert get_active_content_database() is None


def test_an_exception_in_a_decorated_call_restores_the_caller(activations):
    @using_content_database(SCIENCE)
    def fails() -> None:
        raise KeyError("missing")

    with using_content_database(MATHS):
        with pytest.raises(KeyError):
            fails()
        assert get_active_content_database() == MATHS


def test_a_failed_activation_leaves_the_state_alone(monkeypatch):
    def refuse(alias: str) -> None:
        raise LookupError(alias)

    monkeypatch.setattr(context, "_activation_hook", refuse)
    with pytest.raises(LookupError):
        with using_content_database(MATHS):
            pass  # pragma: no cover - never entered
    assert get_active_content_database() is None


@pytest.mark.parametrize("alias", [
    "a" * 31, "a" * 33, "A" * 32, "g" * 32, "a" * 32 + "\n", " " + "a" * 31,
    "../" + "a" * 29, "0x" + "a" * 30, "{" + "a" * 30 + "}", "٣" * 32, "", 12,
])
def test_malformed_aliases_are_refused(activations, alias):
    with pytest.raises(InvalidChannelIdError):
        using_content_database(alias)  # type: ignore[arg-type]
    with pytest.raises(InvalidChannelIdError):
        set_active_content_database(alias)  # type: ignore[arg-type]
    assert activations == []
    assert get_active_content_database() is None


def test_a_block_needs_a_channel(activations):
    # `set_active_content_database(None)` clears the state; a block always names a channel.
    with pytest.raises(InvalidChannelIdError):
        using_content_database(None)  # type: ignore[arg-type]
    assert activations == []
    assert get_active_content_database() is None


def test_a_decorator_used_from_8_threads_keeps_them_apart(activations):
    """Each call sees its own channel for its whole duration, while the others switch."""
    channels = [f"{index:x}" * 32 for index in range(8)]
    start = threading.Barrier(8, timeout=10)

    def run(channel_id: str) -> list[str | None]:
        @using_content_database(channel_id)
        def observe() -> list[str | None]:
            seen = [get_active_content_database()]
            time.sleep(0.001)  # let the other threads switch in between
            seen.append(get_active_content_database())
            return seen

        start.wait()
        observed: list[str | None] = []
        for _ in range(50):
            observed.extend(observe())
        observed.append(get_active_content_database())
        return observed

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, channels, timeout=60))
    for channel_id, observed in zip(channels, results, strict=True):
        assert observed[:-1] == [channel_id] * 100
        assert observed[-1] is None


def test_one_decorated_function_shared_by_8_threads_reads_the_right_files(make_channel):
    """A real read: 8 threads call one decorated function per channel, interleaved."""
    first, second = make_channel("maths"), make_channel("science")
    expected = {first.channel_id: "maths root", second.channel_id: "science root"}

    @using_content_database(first.channel_id)
    def maths_root() -> tuple[str | None, str]:
        return get_active_content_database(), ContentNode.objects.get(parent=None).title

    @using_content_database(second.channel_id)
    def science_root() -> tuple[str | None, str]:
        return get_active_content_database(), ContentNode.objects.get(parent=None).title

    start = threading.Barrier(8, timeout=10)

    def run(index: int) -> list[tuple[str | None, str]]:
        start.wait()
        try:
            calls = (maths_root, science_root) if index % 2 else (science_root, maths_root)
            return [call() for _ in range(20) for call in calls]
        finally:
            for channel_id in expected:
                connections[channel_id].close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(8), timeout=60))
    for observed in results:
        assert len(observed) == 40
        for channel_id, title in observed:
            assert channel_id is not None and expected[channel_id] == title
