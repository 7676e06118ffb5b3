"""Range requests on stored files (RFC 9110), through Django's test client."""

from __future__ import annotations

import json
import os
from typing import Callable

import pytest
from django.http import FileResponse
from django.test import Client

from storage import views
from storage.views import FileRange, FileRangeReader
from tests.storage.conftest import PlacedFile, response_body

SIZE = 300_000


@pytest.fixture
def video(place_in_storage: Callable[..., PlacedFile]) -> PlacedFile:
    return place_in_storage(os.urandom(SIZE), "mp4")


def get_range(client: Client, placed: PlacedFile, header: str, **extra_headers: str):
    return client.get(placed.url, headers={"Range": header, **extra_headers})


@pytest.mark.parametrize(("header", "start", "end"), [
    ("bytes=0-99", 0, 99),                       # first bytes
    ("bytes=1000-70999", 1000, 70999),           # middle, several chunks
    ("bytes=-100", SIZE - 100, SIZE - 1),        # suffix
    ("bytes=250000-", 250000, SIZE - 1),         # open-ended
    ("bytes=0-", 0, SIZE - 1),                   # the whole file, as a range
    ("bytes=299999-999999", SIZE - 1, SIZE - 1),  # last byte, end clamped
])
def test_a_single_range_answers_206_with_exactly_those_bytes(
        client: Client, video: PlacedFile, header: str, start: int, end: int) -> None:
    response = get_range(client, video, header)

    assert response.status_code == 206
    assert response_body(response) == video.data[start:end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Content-Type"] == "video/mp4"
    assert response["ETag"] == f'"{video.checksum}"'
    assert response["Accept-Ranges"] == "bytes"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("header", ["bytes=999999999999-", f"bytes={SIZE}-", "bytes=-0",
                                    f"bytes={SIZE}-{SIZE + 10}"])
def test_an_unsatisfiable_range_answers_416(client: Client, video: PlacedFile,
                                            header: str) -> None:
    response = get_range(client, video, header)

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert set(json.loads(response.content)) == {"detail"}
    assert "immutable" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("header", [
    "bytes=0-1,5-6",
    "bytes=" + ",".join(f"{index}-{index}" for index in range(1000)),
    "bytes=abc", "bytes=10-5", "pages=0-1", "bytes=0-1x",
])
def test_multiple_or_malformed_ranges_get_the_whole_file(client: Client, video: PlacedFile,
                                                         header: str) -> None:
    response = get_range(client, video, header)

    assert response.status_code == 200
    assert response_body(response) == video.data
    assert "Content-Range" not in response


def test_if_range_with_our_etag_applies_the_range(client: Client, video: PlacedFile) -> None:
    response = get_range(client, video, "bytes=0-9", **{"If-Range": f'"{video.checksum}"'})
    assert response.status_code == 206
    assert response_body(response) == video.data[:10]


@pytest.mark.parametrize("if_range", ['"another"', "W/\"{checksum}\"",
                                      "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_if_range_that_does_not_match_gets_the_whole_file(client: Client, video: PlacedFile,
                                                         if_range: str) -> None:
    response = get_range(client, video, "bytes=0-9",
                         **{"If-Range": if_range.format(checksum=video.checksum)})
    assert response.status_code == 200
    assert response_body(response) == video.data


def test_if_none_match_wins_over_range(client: Client, video: PlacedFile) -> None:
    response = get_range(client, video, "bytes=0-9",
                         **{"If-None-Match": f'"{video.checksum}"'})
    assert response.status_code == 304


def test_a_range_of_an_empty_file_is_unsatisfiable(
        client: Client, place_in_storage: Callable[..., PlacedFile]) -> None:
    empty = place_in_storage(b"", "txt")
    assert get_range(client, empty, "bytes=0-").status_code == 416
    whole = client.get(empty.url)
    assert whole.status_code == 200
    assert response_body(whole) == b""


def test_a_range_is_a_file_response_read_in_bounded_chunks(
        client: Client, video: PlacedFile, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    real_read = FileRange.read

    def recording_read(self: FileRange, size: int | None = -1) -> bytes:
        data = real_read(self, size)
        reads.append(len(data))
        return data

    monkeypatch.setattr(FileRange, "read", recording_read)
    response = get_range(client, video, "bytes=10-100009")

    # A FileResponse is what the WSGI server's file wrapper takes over (waitress sends it from
    # its I/O thread); the test client has none, so it reads the range in bounded chunks.
    assert isinstance(response, FileResponse)
    assert response_body(response) == video.data[10:100010]
    assert max(reads) <= views.RANGE_CHUNK_SIZE
    assert len([size for size in reads if size]) >= 2
    assert sum(reads) == 100_000


def test_a_file_range_is_a_file_of_just_those_bytes(tmp_path) -> None:
    path = tmp_path / "data.bin"
    data = bytes(range(256)) * 1000
    path.write_bytes(data)
    handle = open(path, "rb")
    view = FileRange(handle, 300, 10_000)
    # What Django's FileResponse and waitress's file wrapper do to learn the size.
    assert view.seek(0, os.SEEK_END) == 10_000
    assert view.seek(0) == 0
    assert view.read(4000) == data[300:4300]
    assert view.tell() == 4000
    assert view.read() == data[4300:10_300]
    assert view.read(1) == b""
    assert view.seek(-10, os.SEEK_END) == 9_990
    assert view.read(100) == data[10_290:10_300]
    assert view.seek(50_000) == 10_000
    view.close()
    assert handle.closed


def test_a_file_range_answers_a_second_read_of_a_block_without_reading_the_disk(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data.bin"
    data = os.urandom(100_000)
    path.write_bytes(data)
    preads: list[int] = []
    real_pread = os.pread

    def counting_pread(descriptor: int, size: int, offset: int) -> bytes:
        preads.append(size)
        return real_pread(descriptor, size, offset)

    monkeypatch.setattr(views.os, "pread", counting_pread)
    view = FileRange(open(path, "rb"), 1000, 50_000)
    # waitress: read a block to send it, seek back, read what was sent again to skip it.
    assert bytes(view.read(16_384)) == data[1000:17_384]
    view.seek(0)
    assert bytes(view.read(10_000)) == data[1000:11_000]
    assert bytes(view.read(6_384)) == data[11_000:17_384]
    assert preads == [16_384]
    assert bytes(view.read(16_384)) == data[17_384:33_768]
    assert preads == [16_384, 16_384]
    view.close()


def test_the_range_reader_reads_no_more_than_asked(tmp_path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 1000)
    handle = open(path, "rb")
    reader = FileRangeReader(handle, 300, 10_000, chunk_size=3000)
    chunks = list(reader)
    assert [len(chunk) for chunk in chunks] == [3000, 3000, 3000, 1000]
    assert b"".join(chunks) == (bytes(range(256)) * 1000)[300:10_300]
    assert handle.tell() == 10_300
    reader.close()
    assert handle.closed


def test_closing_an_unread_range_closes_the_file(tmp_path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 100)
    handle = open(path, "rb")
    FileRangeReader(handle, 0, 10).close()
    assert handle.closed
