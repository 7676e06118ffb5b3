"""The shipped nginx deployment (deploy/nginx/kolibri-like.conf) in front of a real server.

Debian's nginx runs unprivileged with the shipped site config (tests/nginx.py sets its three
CHANGE values): pages and the API go through it to `kolibri-like start`; stored files come
from CONTENT_DIR/storage straight from nginx, with the bytes and headers the server gives.
"""

from __future__ import annotations

import os

import pytest
import requests

from tests.nginx import INSTALL_HINT, NginxProcess, nginx_binary
from tests.servers import ServerProcess
from tests.storage.conftest import PlacedFile, write_into_storage

TIMEOUT = 30
SIZE = 2 * 1024 * 1024 + 17
# What a browser relies on; the server and nginx must agree on each.
KEY_HEADERS = ("Content-Type", "X-Content-Type-Options", "Accept-Ranges", "Cache-Control",
               "ETag", "Content-Disposition", "Content-Security-Policy", "Content-Range",
               "Content-Length")

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory):
    if nginx_binary() is None:
        pytest.fail(INSTALL_HINT)
    root = tmp_path_factory.mktemp("nginx-deploy")
    content_dir = root / "content"
    storage = content_dir / "storage"
    files = {
        "video": write_into_storage(storage, os.urandom(SIZE), "mp4"),
        "svg": write_into_storage(storage, b'<svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
        "html": write_into_storage(storage, b"<html><script>alert(1)</script></html>", "html"),
        "pdf": write_into_storage(storage, b"%PDF-1.4 not much of a document", "pdf"),
        "vtt": write_into_storage(storage, b"WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n", "vtt"),
        "unknown": write_into_storage(storage, b"<!doctype html><p>sniff me</p>", "xyz"),
    }
    with ServerProcess(root / "server", content_dir=content_dir) as server, \
            NginxProcess(root / "nginx", upstream_port=server.port,
                         storage_dir=storage) as nginx:
        yield server, nginx, files


def fetch(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=TIMEOUT)


def served_by_nginx_alone(response: requests.Response) -> bool:
    # nginx's static files carry Last-Modified; every answer of the server carries Django's
    # X-Frame-Options (which a proxied answer keeps).
    return "Last-Modified" in response.headers and "X-Frame-Options" not in response.headers


def test_pages_and_the_api_go_through_nginx_to_the_server(deployment) -> None:
    server, nginx, _files = deployment
    page = fetch(nginx.url + "/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "X-Frame-Options" in page.headers  # the server's answer, passed on
    direct = fetch(server.url + "/api/channels/")
    proxied = fetch(nginx.url + "/api/channels/")
    assert proxied.status_code == direct.status_code == 200
    assert proxied.json() == direct.json()


@pytest.mark.parametrize("range_header", ["bytes=1000000-2048575", "bytes=0-99", "bytes=-500",
                                          f"bytes={SIZE - 10}-"])
def test_a_range_of_a_video_from_nginx_is_the_servers_bytes_and_headers(
        deployment, range_header: str) -> None:
    server, nginx, files = deployment
    video: PlacedFile = files["video"]
    ours = fetch(server.url + video.url, Range=range_header)
    theirs = fetch(nginx.url + video.url, Range=range_header)

    assert served_by_nginx_alone(theirs)
    assert ours.status_code == theirs.status_code == 206
    assert theirs.content == ours.content
    for name in KEY_HEADERS:
        assert theirs.headers.get(name) == ours.headers.get(name), name


@pytest.mark.parametrize("kind", ["video", "svg", "html", "pdf", "vtt", "unknown"])
def test_a_whole_file_from_nginx_has_the_servers_headers(deployment, kind: str) -> None:
    server, nginx, files = deployment
    placed: PlacedFile = files[kind]
    ours = fetch(server.url + placed.url)
    theirs = fetch(nginx.url + placed.url)

    assert served_by_nginx_alone(theirs)
    assert ours.status_code == theirs.status_code == 200
    assert theirs.content == placed.data
    for name in KEY_HEADERS:
        assert theirs.headers.get(name) == ours.headers.get(name), name
    # A stored file is never a page of this origin.
    assert "text/html" not in theirs.headers["Content-Type"]


def test_a_cached_copy_is_confirmed_with_304(deployment) -> None:
    _server, nginx, files = deployment
    video: PlacedFile = files["video"]
    answer = fetch(nginx.url + video.url, **{"If-None-Match": f'"{video.checksum}"'})
    assert answer.status_code == 304
    assert answer.headers["ETag"] == f'"{video.checksum}"'
    assert answer.content == b""


def test_missing_files_and_bad_ranges_get_the_servers_json_errors(deployment) -> None:
    server, nginx, files = deployment
    video: PlacedFile = files["video"]
    missing = video.url[:-5] + ("0" if video.url[-5] != "0" else "1") + ".mp4"
    other = "1" if video.checksum[0] == "0" else "0"
    wrong_folder = f"/content/storage/{other}/{video.checksum[1]}/{video.checksum}.mp4"
    for path in (missing, wrong_folder, "/content/storage/0/0/not-a-checksum.mp4"):
        ours = fetch(server.url + path)
        theirs = fetch(nginx.url + path)
        assert theirs.status_code == ours.status_code == 404, path
        assert theirs.json() == ours.json()

    beyond = fetch(nginx.url + video.url, Range=f"bytes={SIZE + 10}-")
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{SIZE}"
    assert beyond.headers["Content-Type"] == "application/json"
    assert "no-store" in beyond.headers["Cache-Control"]
    assert set(beyond.json()) == {"detail"}

