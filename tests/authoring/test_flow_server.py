"""The whole authoring flow over HTTP, against a real server with its task consumer:
two videos (resumable tus uploads), a PDF (multipart), a test set with an image; step 1 edited
while the uploads and encodes run; publish; the course plays with mp4, webm and ogv; a second
draft cancelled leaves no file behind."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import time
from pathlib import Path

import pytest
import requests

from media.ffmpeg import build_test_video_args, ffmpeg_binary, run_ffmpeg
from tests.authoring.factories import PDF, PNG
from tests.servers import ServerProcess

pytestmark = pytest.mark.server
CHUNK = 64 * 1024
WAIT_SECONDS = 240


def make_video(path: Path, *, hue: int) -> Path:
    run_ffmpeg(build_test_video_args(path, container="mp4", duration=1.5, width=160, height=90,
                                     hue_degrees=hue), timeout=60)
    return path


def tus_upload(session: requests.Session, base: str, draft_id: str, path: Path, *,
               description: str, topic: str = "") -> dict:
    """Create the upload, send half, ask where it is (as after a dropped connection), resume."""
    data = path.read_bytes()
    metadata = ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in
                        (("filename", path.name), ("description", description),
                         ("topic", topic)))
    created = session.post(f"{base}/api/drafts/{draft_id}/files/", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata})
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    url = location if location.startswith("http") else base + location
    offset = 0
    half = len(data) // 2
    while offset < half:
        end = min(offset + CHUNK, half)
        sent = session.patch(url, data=data[offset:end], headers={
            "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})
        assert sent.status_code == 204, sent.text
        offset = int(sent.headers["Upload-Offset"])
    head = session.head(url, headers={"Tus-Resumable": "1.0.0"})
    assert int(head.headers["Upload-Offset"]) == offset
    while offset < len(data):
        end = min(offset + CHUNK, len(data))
        sent = session.patch(url, data=data[offset:end], headers={
            "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})
        assert sent.status_code == 204, sent.text
        offset = int(sent.headers["Upload-Offset"])
    return session.get(url).json()


def wait_for(predicate, what: str, server: ServerProcess):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {WAIT_SECONDS}s:\n{server.output()[-4000:]}")


def test_an_author_builds_publishes_and_cancels_courses(tmp_path):
    videos = [make_video(tmp_path / "halves.mp4", hue=0),
              make_video(tmp_path / "quarters.mp4", hue=120)]
    with ServerProcess(tmp_path / "server", consumer=True) as server:
        server.run_command("shell", "-c", (
            "from accounts.models import User; "
            "User.objects.create_user('erin', password='erin-pass', role='author')"))
        token = server.run_command("drf_create_token", "erin").stdout.split()[2]
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        base = server.url

        draft = session.post(f"{base}/api/drafts/", json={}).json()
        draft_id = draft["id"]
        assert session.patch(f"{base}/api/drafts/{draft_id}/", json={
            "name": "Fractions", "topics": ["Halves", "Quarters"], "step": 2}).status_code == 200
        first = tus_upload(session, base, draft_id, videos[0], description="Halves",
                           topic="Halves")
        assert first["state"] in ("Processing", "Finished")
        # Step 1 again while the first video encodes.
        assert session.patch(f"{base}/api/drafts/{draft_id}/", json={
            "name": "Fractions for beginners", "version_label": "spring", "step": 1,
        }).status_code == 200
        tus_upload(session, base, draft_id, videos[1], description="Quarters", topic="Quarters")
        pdf = session.post(f"{base}/api/drafts/{draft_id}/files/",
                           files={"file": ("intro.pdf", PDF, "application/pdf")},
                           data={"description": "Read me first"})
        assert pdf.status_code == 201 and pdf.json()["state"] == "Finished"
        image = session.post(f"{base}/api/drafts/{draft_id}/files/",
                             files={"file": ("cake.png", PNG, "image/png")},
                             data={"description": "", "usage": "test"}).json()
        test_sets = [{"title": "Check", "pass_mark": 0.5, "display": "one", "max_attempts": None,
                      "topic": "Halves", "questions": [
                          {"text": "Which is half?", "multiple": False, "image": image["id"],
                           "answers": [{"text": "1/2", "correct": True, "image": None},
                                       {"text": "1/3", "correct": False, "image": None}]}]}]
        saved = session.patch(f"{base}/api/drafts/{draft_id}/", json={"test_sets": test_sets,
                                                                       "step": 4})
        assert saved.status_code == 200, saved.text

        def all_finished():
            files = session.get(f"{base}/api/drafts/{draft_id}/files/").json()["results"]
            assert not [item for item in files if item["state"] == "Error"], files
            return all(item["state"] == "Finished" for item in files) and files

        files = wait_for(all_finished, "the encodes", server)
        assert all(item["formats"] == ["mp4", "ogv", "webm"] for item in files
                   if item["file_type"] == "video")
        published = session.post(f"{base}/api/drafts/{draft_id}/publish/")
        assert published.status_code == 201, published.text
        channel_id = published.json()["channel_id"]
        assert session.post(f"{base}/api/drafts/{draft_id}/publish/").status_code == 409

        channel = session.get(f"{base}/api/channels/{channel_id}/").json()
        assert channel["name"] == "Fractions for beginners" and channel["version"] == 1
        videos_found = session.get(f"{base}/api/content/{channel_id}/contentnode/",
                                   params={"kind": "video"}).json()["results"]
        assert len(videos_found) == 2
        for node in videos_found:
            detail = session.get(
                f"{base}/api/content/{channel_id}/contentnode/{node['id']}/").json()
            rendering = detail["rendering"]
            sources = [rendering["essential_file"], *rendering["alternatives"]]
            assert [item["extension"] for item in sources] == ["mp4", "webm", "ogv"]
            for item in sources:
                body = session.get(base + item["url"])
                assert body.status_code == 200
                assert hashlib.md5(body.content).hexdigest() == item["checksum"]
            ogv = tmp_path / f"{node['id']}.ogv"
            ogv.write_bytes(session.get(base + sources[2]["url"]).content)
            decoded = subprocess.run([ffmpeg_binary(), "-v", "error", "-i", str(ogv), "-f",
                                      "null", "-"], capture_output=True, timeout=60)
            assert decoded.returncode == 0 and not decoded.stderr, decoded.stderr
        exercises = session.get(f"{base}/api/content/{channel_id}/contentnode/",
                                params={"kind": "exercise"}).json()["results"]
        assert [item["title"] for item in exercises] == ["Check"]

        # A second draft, cancelled: none of its files stays.
        other = session.post(f"{base}/api/drafts/", json={}).json()
        doomed = session.post(f"{base}/api/drafts/{other['id']}/files/",
                              files={"file": ("doomed.pdf", PDF + b"doomed",
                                              "application/pdf")},
                              data={"description": ""}).json()
        stored = (server.content_dir / "storage" / doomed["checksum"][0]
                  / doomed["checksum"][1] / f"{doomed['checksum']}.pdf")
        assert stored.is_file()
        assert session.delete(f"{base}/api/drafts/{other['id']}/").status_code == 204
        assert not stored.exists()
        assert session.get(f"{base}/api/drafts/{other['id']}/").status_code == 404
