"""Range and validator parsing (RFC 9110): pure functions, checked by example and by hypothesis."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.ranges import (
    MAX_RANGE_HEADER_LENGTH,
    ByteRange,
    UnsatisfiableRange,
    if_none_match_matches,
    if_range_allows_range,
    parse_range_header,
    strong_etag,
)

ETAG = strong_etag("9808fa7c560b9801acccf0f6cf74c3ea")


@pytest.mark.parametrize(("header", "size", "expected"), [
    ("bytes=0-99", 1000, ByteRange(0, 99)),
    ("bytes=100-199", 1000, ByteRange(100, 199)),
    ("bytes=900-", 1000, ByteRange(900, 999)),
    ("bytes=-100", 1000, ByteRange(900, 999)),
    ("bytes=-5000", 1000, ByteRange(0, 999)),
    ("bytes=0-5000", 1000, ByteRange(0, 999)),
    ("bytes=999-999", 1000, ByteRange(999, 999)),
    ("BYTES=0-0", 1000, ByteRange(0, 0)),
    (" bytes=1-2 ", 1000, ByteRange(1, 2)),
    ("bytes=1000-", 1000, UnsatisfiableRange()),
    ("bytes=999999999999-", 1000, UnsatisfiableRange()),
    ("bytes=1000-2000", 1000, UnsatisfiableRange()),
    ("bytes=-0", 1000, UnsatisfiableRange()),
    ("bytes=0-", 0, UnsatisfiableRange()),
    ("bytes=-10", 0, UnsatisfiableRange()),
])
def test_it_reads_single_ranges(header: str, size: int, expected: object) -> None:
    assert parse_range_header(header, size) == expected


@pytest.mark.parametrize("header", [
    None, "", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-4", "bytes=--1",
    "bytes=+1-2", "bytes=1_0-20", "bytes=١-٢", "bytes = 0-1", "items=0-1", "bytes=0-1;x",
    "bytes=0-1,5-6", "bytes=0-1,", "bytes=" + ",".join(f"{i}-{i}" for i in range(1000)),
    "bytes=0-" + "9" * MAX_RANGE_HEADER_LENGTH,
])
def test_it_ignores_malformed_or_multiple_ranges(header: str | None) -> None:
    assert parse_range_header(header, 1000) is None


def test_content_range_values() -> None:
    assert ByteRange(0, 99).content_range(1000) == "bytes 0-99/1000"
    assert UnsatisfiableRange().content_range(1000) == "bytes */1000"


def test_a_huge_header_costs_no_time() -> None:
    header = "bytes=" + ",".join(f"{i}-{i}" for i in range(100_000))
    started = time.perf_counter()
    for _ in range(100):
        assert parse_range_header(header, 10**9) is None
    assert time.perf_counter() - started < 0.5


def _range_headers() -> st.SearchStrategy[str]:
    numbers = st.integers(min_value=0, max_value=2**64).map(str)
    return st.one_of(
        st.builds(lambda a, b: f"bytes={a}-{b}", numbers, numbers),
        st.builds(lambda a: f"bytes={a}-", numbers),
        st.builds(lambda n: f"bytes=-{n}", numbers),
        st.text(max_size=60).map(lambda tail: "bytes=" + tail),
        st.text(max_size=60),
    )


@given(header=_range_headers(), size=st.integers(min_value=0, max_value=10**12))
def test_a_range_never_leaves_the_file(header: str, size: int) -> None:
    decision = parse_range_header(header, size)
    assert decision is None or isinstance(decision, (ByteRange, UnsatisfiableRange))
    if isinstance(decision, ByteRange):
        assert 0 <= decision.start <= decision.end < size
        assert decision.length == decision.end - decision.start + 1


@given(first=st.integers(0, 10**9), last=st.integers(0, 10**9), size=st.integers(0, 10**9))
def test_a_closed_range_selects_exactly_its_bytes(first: int, last: int, size: int) -> None:
    decision = parse_range_header(f"bytes={first}-{last}", size)
    if last < first:
        assert decision is None
    elif first >= size:
        assert decision == UnsatisfiableRange()
    else:
        assert decision == ByteRange(first, min(last, size - 1))


@given(suffix=st.integers(0, 10**9), size=st.integers(0, 10**9))
def test_a_suffix_range_selects_the_last_bytes(suffix: int, size: int) -> None:
    decision = parse_range_header(f"bytes=-{suffix}", size)
    if suffix == 0 or size == 0:
        assert decision == UnsatisfiableRange()
    else:
        assert decision == ByteRange(size - min(suffix, size), size - 1)


@pytest.mark.parametrize(("header", "expected"), [
    (None, False), ("", False), (ETAG, True), (f"W/{ETAG}", True), ("*", True),
    (f'"other", {ETAG}', True), ('"other"', False), (ETAG.strip('"'), False),
    (", ".join(['"x"'] * 2000) + ", " + ETAG, False),
])
def test_if_none_match(header: str | None, expected: bool) -> None:
    assert if_none_match_matches(header, ETAG) is expected


@pytest.mark.parametrize(("header", "expected"), [
    (None, True), (ETAG, True), (f" {ETAG} ", True), (f"W/{ETAG}", False), ('"other"', False),
    ("Wed, 21 Oct 2015 07:28:00 GMT", False),
])
def test_if_range_uses_strong_comparison(header: str | None, expected: bool) -> None:
    assert if_range_allows_range(header, ETAG) is expected


@given(header=st.text(max_size=300))
def test_validators_never_fail_on_any_text(header: str) -> None:
    assert isinstance(if_none_match_matches(header, ETAG), bool)
    assert isinstance(if_range_allows_range(header, ETAG), bool)
