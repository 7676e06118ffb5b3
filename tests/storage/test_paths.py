"""Names of stored files: the one check at every boundary (DESIGN invariant 6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.paths import (
    InvalidStorageNameError,
    parse_storage_name,
    parse_storage_relpath,
    storage_name,
    storage_relpath,
    storage_url,
)

CHECKSUM = "9808fa7c560b9801acccf0f6cf74c3ea"
checksums = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
extensions = st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10)


def test_it_builds_kolibri_s_layout() -> None:
    assert storage_relpath(CHECKSUM, "mp4") == f"9/8/{CHECKSUM}.mp4"
    assert storage_url(CHECKSUM, "mp4") == f"/content/storage/9/8/{CHECKSUM}.mp4"


@given(checksum=checksums, extension=extensions)
def test_relpath_and_name_round_trip(checksum: str, extension: str) -> None:
    relpath = storage_relpath(checksum, extension)
    assert parse_storage_relpath(relpath) == (checksum, extension)
    assert parse_storage_name(relpath.rsplit("/", 1)[1]) == (checksum, extension)


@given(text=st.text(max_size=80))
def test_an_accepted_name_is_always_canonical(text: str) -> None:
    """Whatever is accepted names exactly one file: parsing then rebuilding gives the input."""
    try:
        checksum, extension = parse_storage_relpath(text)
    except InvalidStorageNameError:
        return
    assert storage_relpath(checksum, extension) == text


@pytest.mark.parametrize("relpath", [
    f"9/8/{CHECKSUM.upper()}.mp4",
    f"9/8/{CHECKSUM[:31]}.mp4",
    f"9/8/{CHECKSUM}0.mp4",
    f"8/9/{CHECKSUM}.mp4",
    f"9/9/{CHECKSUM}.mp4",
    f"9/8/{CHECKSUM}.mp4\n",
    f"9/8/{CHECKSUM}.MP4",
    f"9/8/{CHECKSUM}-data.zip",
    f"9/8/{CHECKSUM}.",
    f"9/8/{CHECKSUM}.abcdefghijk",
    f"9/8/{CHECKSUM}",
    f"9/8/x/{CHECKSUM}.mp4",
    f"../../{CHECKSUM}.mp4",
    f"9\\8\\{CHECKSUM}.mp4",
    f"9/8/{CHECKSUM}.mp4/..",
    "../../db.sqlite3",
    f"9/8/{'９' + CHECKSUM[1:]}.mp4",
    "",
])
def test_it_rejects_malformed_relpaths(relpath: str) -> None:
    with pytest.raises(InvalidStorageNameError):
        parse_storage_relpath(relpath)


@pytest.mark.parametrize("checksum", [CHECKSUM.upper(), " " + CHECKSUM[1:], "0x" + CHECKSUM[2:],
                                      CHECKSUM + "\n", None, 12])
def test_it_refuses_to_build_names_from_bad_checksums(checksum: object) -> None:
    with pytest.raises(InvalidStorageNameError):
        storage_name(checksum, "mp4")  # type: ignore[arg-type]
