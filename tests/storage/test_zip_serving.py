"""Members of stored zips, read safely (storage.zip_serving), and the sandbox origin's WSGI app
that serves them (kolibri_like.zip_app), called directly with WSGI environs."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import Any, Iterator
from wsgiref.util import setup_testing_defaults

import pytest
from django.test import RequestFactory

from kolibri_like import zip_app
from kolibri_like.sandbox_pages import with_storage_shim
from storage import zip_serving
from storage.zip_serving import (
    DamagedZipArchiveError,
    InvalidMemberPathError,
    ZipArchiveRefusedError,
    ZipDirectoryRedirectError,
    ZipMemberNotFoundError,
    normalise_entry_name,
    normalise_member_path,
    open_zip_member,
)

APP_FILES = {
    "index.html": b"<!DOCTYPE html><script src='js/app.js'></script>",
    "js/app.js": b"document.title = 'app';",
    "games/index.html": b"<p>games</p>",
    "games/level.json": b'{"level": 1}',
}


def make_zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def write_zip(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "app.zip"
    path.write_bytes(data)
    return path


def read_member(path: Path, requested: str) -> bytes:
    member = open_zip_member(path, requested)
    try:
        return b"".join(member.body)
    finally:
        member.body.close()


def patch_central_sizes(data: bytes, *, file_size: int) -> bytes:
    """Make the (only) central directory entry declare `file_size` uncompressed bytes."""
    position = data.index(b"PK\x01\x02")
    return data[:position + 24] + struct.pack("<I", file_size) + data[position + 28:]


@pytest.fixture(autouse=True)
def no_archives_left_open() -> Iterator[None]:
    yield
    zip_serving.forget_open_archives()


# --- paths ------------------------------------------------------------------------------------

@pytest.mark.parametrize("requested", [
    "../index.html", "games/../../index.html", "..", "/etc/passwd", "games\\index.html",
    "index.html\x00.js", "./index.html", "games//level.json", "C:/index.html", "a\nb",
    "x" * (zip_serving.MAX_MEMBER_PATH_LENGTH + 1),
])
def test_unsafe_request_paths_are_refused(requested: str) -> None:
    with pytest.raises(InvalidMemberPathError):
        normalise_member_path(requested)


@pytest.mark.parametrize("requested", ["", "index.html", "games/", "games/level.json",
                                       "ünïcode/файл.txt", "a..b.js"])
def test_ordinary_request_paths_pass_unchanged(requested: str) -> None:
    assert normalise_member_path(requested) == requested


@pytest.mark.parametrize(("name", "served_as"), [
    ("index.html", "index.html"),
    ("./site/index.html", "site/index.html"),
    ("site\\win.html", "site/win.html"),
    ("site//double.html", "site/double.html"),
    ("../evil.html", None),
    ("site/../../evil.html", None),
    ("..\\evil.html", None),
    ("/abs.html", None),
    ("\\abs.html", None),
    ("C:/windows.html", None),
    ("site/", None),
])
def test_entry_names_are_normalised_or_dropped(name: str, served_as: str | None) -> None:
    assert normalise_entry_name(name) == served_as


def test_traversal_entries_in_an_archive_are_never_served(tmp_path: Path) -> None:
    path = write_zip(tmp_path, make_zip({"../evil.html": b"evil", "/abs.html": b"abs",
                                         "dir\\win.html": b"windows", "ok.html": b"ok"}))
    assert read_member(path, "ok.html") == b"ok"
    assert read_member(path, "dir/win.html") == b"windows"
    for requested in ("evil.html", "abs.html", "../evil.html"):
        with pytest.raises((ZipMemberNotFoundError, InvalidMemberPathError)):
            open_zip_member(path, requested)


# --- members, directories --------------------------------------------------------------------

def test_members_are_read_and_directories_serve_their_index(tmp_path: Path) -> None:
    path = write_zip(tmp_path, make_zip(APP_FILES))
    assert read_member(path, "js/app.js") == APP_FILES["js/app.js"]
    assert read_member(path, "") == APP_FILES["index.html"]
    assert read_member(path, "games/") == APP_FILES["games/index.html"]
    with pytest.raises(ZipDirectoryRedirectError) as redirect:
        open_zip_member(path, "games")
    assert redirect.value.directory == "games/"


@pytest.mark.parametrize("requested", ["missing.js", "js/", "js/app.js/", "nothing/"])
def test_missing_members_are_not_found(tmp_path: Path, requested: str) -> None:
    path = write_zip(tmp_path, make_zip(APP_FILES))
    with pytest.raises(ZipMemberNotFoundError):
        open_zip_member(path, requested)


def test_a_missing_archive_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ZipMemberNotFoundError):
        open_zip_member(tmp_path / "absent.zip", "index.html")


def test_a_file_that_is_not_a_zip_is_damaged(tmp_path: Path) -> None:
    path = write_zip(tmp_path, b"this is no zip at all")
    with pytest.raises(DamagedZipArchiveError):
        open_zip_member(path, "index.html")


def test_large_members_stream_in_chunks(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_serving, "MEMORY_READ_LIMIT", 1024)
    data = bytes(range(256)) * 1024  # 256 KiB, four chunks
    path = write_zip(tmp_path, make_zip({"big.bin": data}))
    member = open_zip_member(path, "big.bin")
    assert member.body.preloaded is None
    chunks = list(member.body)
    assert len(chunks) == 4 and b"".join(chunks) == data


def test_each_thread_keeps_its_last_archives_open(tmp_path: Path) -> None:
    import threading

    paths = []
    for number in range(zip_serving.ARCHIVES_KEPT_PER_THREAD + 1):
        folder = tmp_path / str(number)
        folder.mkdir()
        paths.append(write_zip(folder, make_zip({"index.html": b"%d" % number})))
    first = open_zip_member(paths[0], "index.html").body.archive
    assert open_zip_member(paths[0], "").body.archive is first  # parsed once
    other_thread: list[zipfile.ZipFile] = []
    worker = threading.Thread(target=lambda: other_thread.append(
        open_zip_member(paths[0], "index.html").body.archive))
    worker.start()
    worker.join()
    assert other_thread[0] is not first  # never shared between threads
    for path in paths[1:]:
        assert read_member(path, "index.html") == path.parent.name.encode()
    assert first.fp is None  # the oldest was closed to make room
    assert read_member(paths[0], "index.html") == b"0"  # and opens again when asked


def test_a_deleted_archive_is_not_found_and_let_go(tmp_path: Path) -> None:
    path = write_zip(tmp_path, make_zip(APP_FILES))
    archive = open_zip_member(path, "index.html").body.archive
    path.unlink()
    with pytest.raises(ZipMemberNotFoundError):
        open_zip_member(path, "index.html")
    assert archive.fp is None


def test_closing_a_body_midway_leaves_the_archive_usable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_serving, "MEMORY_READ_LIMIT", 1024)
    data = bytes(range(256)) * 1024
    path = write_zip(tmp_path, make_zip({"big.bin": data}))
    member = open_zip_member(path, "big.bin")
    chunks = iter(member.body)
    assert next(chunks) == data[:zip_serving.STREAM_CHUNK_SIZE]
    member.body.close()  # the client went away
    assert read_member(path, "big.bin") == data


# --- zip bombs and lies ----------------------------------------------------------------------

def test_a_highly_compressed_member_is_refused(tmp_path: Path) -> None:
    # 20 MiB of zeros deflate to about 20 KiB: a thousand to one, a bomb's ratio.
    path = write_zip(tmp_path, make_zip({"index.html": b"ok", "bomb.bin": bytes(20 * 1024**2)}))
    with pytest.raises(ZipArchiveRefusedError, match="inflates"):
        open_zip_member(path, "bomb.bin")
    assert read_member(path, "index.html") == b"ok"


def test_an_oversized_member_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_serving, "MAX_MEMBER_SIZE", 1000)
    path = write_zip(tmp_path, make_zip({"big.bin": b"x" * 1001, "small.txt": b"fine"},
                                        compression=zipfile.ZIP_STORED))
    with pytest.raises(ZipArchiveRefusedError, match="declares 1001 bytes"):
        open_zip_member(path, "big.bin")
    assert read_member(path, "small.txt") == b"fine"


def test_an_archive_declaring_too_much_in_total_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_serving, "MAX_TOTAL_SIZE", 100)
    path = write_zip(tmp_path, make_zip({f"part{index}.txt": b"y" * 30 for index in range(4)}))
    with pytest.raises(ZipArchiveRefusedError, match="declares 120 bytes"):
        open_zip_member(path, "part0.txt")


def test_an_archive_with_too_many_entries_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_serving, "MAX_ENTRIES", 3)
    path = write_zip(tmp_path, make_zip({f"{index}.txt": b"z" for index in range(4)}))
    with pytest.raises(ZipArchiveRefusedError, match="4 entries"):
        open_zip_member(path, "0.txt")


@pytest.mark.parametrize("memory_limit", [zip_serving.MEMORY_READ_LIMIT, 1])
def test_a_member_shorter_than_it_declares_is_damaged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_limit: int) -> None:
    monkeypatch.setattr(zip_serving, "MEMORY_READ_LIMIT", memory_limit)
    data = make_zip({"index.html": b"hello"}, compression=zipfile.ZIP_STORED)
    path = write_zip(tmp_path, patch_central_sizes(data, file_size=10))
    with pytest.raises(DamagedZipArchiveError, match="gave 5 bytes, declares 10"):
        read_member(path, "index.html")


def test_a_member_longer_than_it_declares_fails_its_crc(tmp_path: Path) -> None:
    data = make_zip({"index.html": b"hello world"}, compression=zipfile.ZIP_STORED)
    path = write_zip(tmp_path, patch_central_sizes(data, file_size=5))
    with pytest.raises(DamagedZipArchiveError):
        read_member(path, "index.html")


# --- checks for imports and uploads ----------------------------------------------------------

def test_a_sound_app_archive_passes_the_check(tmp_path: Path) -> None:
    assert zip_serving.check_zip_archive(write_zip(tmp_path, make_zip(APP_FILES))) == []


def test_the_check_names_each_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_serving, "MAX_MEMBER_SIZE", 4 * 1024**2)
    path = write_zip(tmp_path, make_zip({
        "site/index.html": b"<p>not at the top</p>", "../../escape.js": b"x",
        "bomb.bin": bytes(2 * 1024**2), "big.bin": b"b" * (4 * 1024**2 + 1)}))
    problems = zip_serving.check_zip_archive(path)
    assert len(problems) == 4
    assert "climb out" in problems[0] and "'../../escape.js'" in problems[0]
    assert any("bomb.bin" in problem and "inflates" in problem for problem in problems)
    assert any("big.bin" in problem and "declares" in problem for problem in problems)
    assert problems[-1] == "no index.html at the top of the archive"
    assert len(zip_serving.check_zip_archive(path, require_index=False)) == 3


def test_the_check_refuses_what_is_no_zip_or_too_big(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert "not a readable zip" in zip_serving.check_zip_archive(write_zip(tmp_path, b"nope"))[0]
    monkeypatch.setattr(zip_serving, "MAX_ENTRIES", 2)
    assert zip_serving.check_zip_archive(write_zip(tmp_path, make_zip(APP_FILES))) == [
        "the archive has 4 entries; at most 2 are served"]


# --- the sandbox origin's WSGI app -----------------------------------------------------------

def call_app(path: str, *, method: str = "GET", **headers: str) -> tuple[str, dict[str, str],
                                                                         bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method,
                               "PATH_INFO": path.encode().decode("latin-1")}
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    setup_testing_defaults(environ)
    answer: dict[str, Any] = {}

    def start_response(status: str, header_list: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, header_list

    body_iterable = zip_app.application(environ, start_response)
    try:
        body = b"".join(body_iterable)
    finally:
        getattr(body_iterable, "close", lambda: None)()
    names = [name.lower() for name, _value in answer["headers"]]
    assert len(names) == len(set(names)), f"a header twice: {answer['headers']}"
    assert "set-cookie" not in names  # this origin never has cookies
    return answer["status"], {name.lower(): value for name, value in answer["headers"]}, body


def test_the_app_serves_members_with_a_sandbox_policy_and_long_caching(place_in_storage) -> None:
    stored = place_in_storage(make_zip(APP_FILES), "zip")
    status, headers, body = call_app(f"/zipcontent/{stored.checksum}.zip/js/app.js")
    assert status == "200 OK" and body == APP_FILES["js/app.js"]
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["access-control-allow-origin"] == "*"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    policy = headers["content-security-policy"]
    assert "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:" in policy
    assert "sandbox allow-scripts" in policy and "allow-same-origin" not in policy
    again = call_app(f"/zipcontent/{stored.checksum}.zip/js/app.js",
                     if_none_match=headers["etag"])
    assert again[0] == "304 Not Modified" and again[2] == b""
    other = call_app(f"/zipcontent/{stored.checksum}.zip/index.html")[1]
    assert other["etag"] != headers["etag"]
    assert other["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("memory_limit", [zip_serving.MEMORY_READ_LIMIT, 1000])
def test_the_app_serves_one_byte_range_of_a_member(
        place_in_storage, monkeypatch: pytest.MonkeyPatch, memory_limit: int) -> None:
    monkeypatch.setattr(zip_serving, "MEMORY_READ_LIMIT", memory_limit)  # 1000: streamed
    video = bytes(range(256)) * 400
    stored = place_in_storage(make_zip({"media/clip.mp4": video}), "zip")
    url = f"/zipcontent/{stored.checksum}.zip/media/clip.mp4"
    status, headers, body = call_app(url, range="bytes=70000-70099")
    assert status == "206 Partial Content" and body == video[70000:70100]
    assert headers["content-range"] == f"bytes 70000-70099/{len(video)}"
    assert headers["content-length"] == "100" and headers["content-type"] == "video/mp4"
    assert call_app(url, range="bytes=-10")[2] == video[-10:]
    status, headers, _body = call_app(url, range=f"bytes={len(video)}-")
    assert status.startswith("416") and headers["content-range"] == f"bytes */{len(video)}"
    # A Range for another version of the file (If-Range) gets the whole file.
    status, _headers, body = call_app(url, range="bytes=0-9", if_range='"other"')
    assert status == "200 OK" and body == video


def test_the_app_redirects_to_folders_and_serves_their_index(place_in_storage) -> None:
    stored = place_in_storage(make_zip(APP_FILES), "zip")
    base = f"/zipcontent/{stored.checksum}.zip"
    status, headers, _body = call_app(base)
    assert status.startswith("301") and headers["location"] == base + "/"
    # An app's pages come with the storage stand-in first (kolibri_like/sandbox_pages.py).
    assert call_app(base + "/")[2] == with_storage_shim(APP_FILES["index.html"])
    status, headers, _body = call_app(base + "/games")
    assert status.startswith("301") and headers["location"] == base + "/games/"
    assert call_app(base + "/games/")[2] == with_storage_shim(APP_FILES["games/index.html"])
    unicode = place_in_storage(make_zip({"jeux/café/index.html": b"cafe"}), "zip")
    status, headers, _body = call_app(f"/zipcontent/{unicode.checksum}.zip/jeux/café")
    assert headers["location"] == f"/zipcontent/{unicode.checksum}.zip/jeux/caf%C3%A9/"
    assert call_app(f"/zipcontent/{unicode.checksum}.zip/jeux/café/")[2] == with_storage_shim(
        b"cafe")


@pytest.mark.parametrize("member", ["../../../../etc/passwd", "..%2Findex.html", "/index.html",
                                    "missing.js", "js\\app.js", "index.html\x00"])
def test_the_app_answers_404_for_bad_or_missing_members(place_in_storage, member: str) -> None:
    stored = place_in_storage(make_zip(APP_FILES), "zip")
    status, headers, _body = call_app(f"/zipcontent/{stored.checksum}.zip/{member}")
    assert status == "404 Not Found"
    assert headers["x-content-type-options"] == "nosniff"


def test_the_app_refuses_bombs_and_reports_damage(place_in_storage) -> None:
    bomb = place_in_storage(make_zip({"bomb.bin": bytes(20 * 1024**2)}), "zip")
    assert call_app(f"/zipcontent/{bomb.checksum}.zip/bomb.bin")[0] == "403 Forbidden"
    damaged = place_in_storage(b"not a zip", "zip")
    assert call_app(f"/zipcontent/{damaged.checksum}.zip/index.html")[0].startswith("500")


def test_the_app_serves_no_other_kind_and_no_other_method(place_in_storage) -> None:
    video = place_in_storage(b"mp4 bytes", "mp4")
    assert call_app(f"/zipcontent/{video.checksum}.mp4/")[0] == "404 Not Found"
    stored = place_in_storage(make_zip(APP_FILES), "zip")
    status, headers, _body = call_app(f"/zipcontent/{stored.checksum}.zip/index.html",
                                      method="POST")
    assert status.startswith("405") and headers["allow"] == "GET, HEAD"
    status, headers, body = call_app(f"/zipcontent/{stored.checksum}.zip/index.html",
                                     method="HEAD")
    assert status == "200 OK" and body == b""
    assert headers["content-length"] == str(len(with_storage_shim(APP_FILES["index.html"])))


def test_the_app_plays_flash_through_ruffle_from_its_own_origin(place_in_storage) -> None:
    movie = place_in_storage(b"FWS\x0a not really a movie", "swf")
    status, headers, page = call_app(f"/zipcontent/{movie.checksum}.swf/")
    assert status == "200 OK" and headers["content-type"].startswith("text/html")
    assert b'<script src="/ruffle/ruffle.js">' in page and b'url: "movie.swf"' in page
    assert b"http" not in page.replace(b"http-equiv", b"")  # nothing from another host
    status, headers, data = call_app(f"/zipcontent/{movie.checksum}.swf/movie.swf")
    assert data == movie.data and headers["content-type"] == "application/x-shockwave-flash"
    assert call_app(f"/zipcontent/{movie.checksum}.swf/other.swf")[0] == "404 Not Found"
    assert call_app(f"/zipcontent/{'0' * 32}.swf/")[0] == "404 Not Found"
    status, headers, loader = call_app("/ruffle/ruffle.js")
    assert status == "200 OK" and headers["content-type"].startswith("text/javascript")
    assert len(loader) > 100_000
    wasm_name = next(zip_app.ruffle_directory().glob("*.wasm")).name
    status, headers, _wasm = call_app(f"/ruffle/{wasm_name}", method="HEAD")
    assert headers["content-type"] == "application/wasm" and "immutable" in headers[
        "cache-control"]
    assert call_app("/ruffle/README.md")[0] == "404 Not Found"
    assert call_app("/ruffle/../settings.py")[0] == "404 Not Found"


@pytest.mark.parametrize(("host", "zip_port", "origin"), [
    ("192.168.1.5:8000", 9001, "http://192.168.1.5:9001"),
    ("192.168.1.5:8000", 0, "http://192.168.1.5:8001"),
    ("school.local", 0, "http://school.local:81"),
    ("[::1]:8000", 0, "http://[::1]:8001"),
])
def test_pages_frame_the_sandbox_origin_on_the_host_they_were_asked_for(
        settings, host: str, zip_port: int, origin: str) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    settings.ZIP_PORT = zip_port
    request = RequestFactory().get("/", HTTP_HOST=host)
    assert zip_app.zip_origin(request)["zip_origin"]() == origin  # type: ignore[operator]


# --- `kolibri-like start` runs it (kolibri_like/server.py) -----------------------------------

@pytest.mark.parametrize(("flag", "setting", "expected"), [
    (None, 0, 8001), (None, 9100, 9100), (9200, 9100, 9200)])
def test_the_zip_port_is_the_flag_then_the_setting_then_the_next_port(
        settings, flag: int | None, setting: int, expected: int) -> None:
    from kolibri_like.server import parse_start_arguments, resolve_zip_port

    settings.ZIP_PORT = setting
    argv = ["--port", "8000"] + (["--zip-port", str(flag)] if flag else [])
    assert resolve_zip_port(parse_start_arguments(argv)) == expected


def test_start_serves_the_sandbox_origin_and_tells_the_pages(
        settings, place_in_storage, capsys: pytest.CaptureFixture[str]) -> None:
    import socket
    import urllib.request

    from kolibri_like.server import start_sandbox_origin
    from tests.servers import free_port

    settings.ZIP_PORT = 0  # an override, so what start sets is undone after the test
    stored = place_in_storage(make_zip(APP_FILES), "zip")
    port = free_port()
    zip_server = start_sandbox_origin("127.0.0.1", port)
    assert zip_server is not None
    try:
        assert settings.ZIP_PORT == port
        url = f"http://127.0.0.1:{port}/zipcontent/{stored.checksum}.zip/js/app.js"
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.read() == APP_FILES["js/app.js"]
            assert "sandbox allow-scripts" in answer.headers["Content-Security-Policy"]
        # A port already taken: the site still starts, and says why apps will not play.
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            assert start_sandbox_origin("127.0.0.1", taken.getsockname()[1]) is None
        assert "HTML5 apps and Flash will not play" in capsys.readouterr().err
    finally:
        zip_server.close()


def test_with_https_the_sandbox_origin_is_https_too(settings, place_in_storage,
                                                    tmp_path: Path) -> None:
    """An http frame inside an https page would be blocked as mixed content."""
    import ssl
    import time
    import urllib.error
    import urllib.request

    from kolibri_like.server import start_sandbox_origin
    from kolibri_like.tls import ensure_certificate
    from tests.servers import free_port

    settings.ZIP_PORT = 0
    settings.ALLOWED_HOSTS = ["*"]
    stored = place_in_storage(make_zip(APP_FILES), "zip")
    paths = ensure_certificate(tmp_path / "tls", ["127.0.0.1"], common_name="test")
    assert paths.authority is not None
    port = free_port()
    zip_server = start_sandbox_origin("127.0.0.1", port, paths)
    trusting = ssl.create_default_context(cafile=str(paths.authority))
    url = f"https://127.0.0.1:{port}/zipcontent/{stored.checksum}.zip/index.html"
    try:
        deadline = time.monotonic() + 10  # cheroot binds in the server's own thread
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5, context=trusting) as answer:
                    assert answer.read() == with_storage_shim(APP_FILES["index.html"])
                break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        zip_server.close()
    page_request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8443", secure=True)
    assert zip_app.zip_origin_for(page_request) == f"https://127.0.0.1:{port}"
