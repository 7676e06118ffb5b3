"""Uploads to a real server whose disk fills up (ENOSPC injected by tests/faults/inject into
the server process): the tus and the multipart endpoints answer 507 with a sentence, the
bytes confirmed before are kept and nothing more, a refused multipart upload leaves nothing,
and once the disk has room (the server restarted without the fault) the upload resumes and
ends Finished with the right bytes.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests

from tests.authoring.factories import PDF
from tests.faults.homes import FaultHome

pytestmark = pytest.mark.server

CHUNK = 100_000


def body(size_kib: int) -> bytes:
    return PDF + b"%" + bytes(range(256)) * 4 * size_kib + b"\n%%EOF\n"


def session_for(draft: dict) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {draft['token']}"
    return session


def create_tus(session: requests.Session, home: FaultHome, draft_id: str, data: bytes,
               name: str) -> str:
    created = session.post(f"{home.url}/api/drafts/{draft_id}/files/", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
        "Upload-Metadata": f"filename {base64.b64encode(name.encode()).decode()}"}, timeout=30)
    assert created.status_code == 201, created.text
    return home.url + created.headers["Location"].removeprefix(home.url)


def patch(session: requests.Session, url: str, data: bytes, offset: int) -> requests.Response:
    return session.patch(url, data=data[offset:offset + CHUNK], headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream"}, timeout=30)


def offset_of(session: requests.Session, url: str) -> int:
    return int(session.head(url, headers={"Tus-Resumable": "1.0.0"}, timeout=30)
               .headers["Upload-Offset"])


def start_with_fault(home: FaultHome, spec: str) -> dict[str, str]:
    plain = home.env
    home.env = home.fault_env(spec)
    home.start()
    return plain


def restart_without_fault(home: FaultHome, plain: dict[str, str]) -> None:
    home.stop()
    home.env = plain
    home.start()


def partial_uploads(home: FaultHome) -> dict[str, int]:
    folder = home.content_dir / "uploads"
    return {path.name: path.stat().st_size for path in folder.iterdir()} \
        if folder.is_dir() else {}


def test_a_full_disk_mid_upload_answers_507_and_the_upload_resumes(prepared, copy_home):
    draft = prepared["draft"]
    home = copy_home("drafted")
    session, data = session_for(draft), body(500)
    # The first chunk's write goes through; from the second on the disk is full.
    plain = start_with_fault(home, f"write:2:ENOSPC:{home.content_dir}/uploads/")
    url = create_tus(session, home, draft["draft"], data, "notes.pdf")
    assert patch(session, url, data, 0).status_code == 204
    full = patch(session, url, data, CHUNK)
    assert full.status_code == 507 and "disk is full" in full.json()["detail"], full.text
    assert offset_of(session, url) == CHUNK
    whole = session.post(f"{home.url}/api/drafts/{draft['draft']}/files/",
                         files={"file": ("whole.pdf", body(20), "application/pdf")}, timeout=30)
    assert whole.status_code == 507 and "disk is full" in whole.json()["detail"], whole.text
    assert len(home.injected()) == 2
    listed = session.get(f"{home.url}/api/drafts/{draft['draft']}/files/", timeout=30).json()
    assert [item["name"] for item in listed["results"]] == ["notes.pdf"]
    assert list(partial_uploads(home).values()) == [CHUNK]  # the refused bytes trimmed off
    assert home.temp_leftovers() == []

    restart_without_fault(home, plain)
    offset = offset_of(session, url)
    while offset < len(data):
        sent = patch(session, url, data, offset)
        assert sent.status_code == 204, sent.text
        offset = int(sent.headers["Upload-Offset"])
    shown = session.get(url, timeout=30).json()
    assert shown["state"] == "Finished" and shown["checksum"] == hashlib.md5(data).hexdigest()
    again = session.post(f"{home.url}/api/drafts/{draft['draft']}/files/",
                         files={"file": ("whole.pdf", body(20), "application/pdf")}, timeout=30)
    assert again.status_code == 201 and again.json()["state"] == "Finished", again.text
    home.stop()
    assert partial_uploads(home) == {} and home.temp_leftovers() == []
    home.run("checkinvariants", "--full")


def test_a_full_disk_when_an_upload_is_stored_answers_507_and_completes_later(prepared,
                                                                               copy_home):
    draft = prepared["draft"]
    home = copy_home("drafted")
    session, data = session_for(draft), body(150)
    plain = start_with_fault(home, f"write:1:ENOSPC:{home.content_dir}/tmp/")
    url = create_tus(session, home, draft["draft"], data, "notes.pdf")
    offset = 0
    while offset + CHUNK < len(data):
        assert patch(session, url, data, offset).status_code == 204
        offset += CHUNK
    full = patch(session, url, data, offset)
    assert full.status_code == 507 and "disk is full" in full.json()["detail"], full.text
    assert home.injected()
    assert home.temp_leftovers() == []
    assert list(partial_uploads(home).values()) == [len(data)]  # every byte kept

    restart_without_fault(home, plain)
    assert offset_of(session, url) == len(data)  # stored now, by the HEAD
    shown = session.get(url, timeout=30).json()
    assert shown["state"] == "Finished" and shown["checksum"] == hashlib.md5(data).hexdigest()
    home.stop()
    assert partial_uploads(home) == {}
    home.check()


def test_a_failing_disk_mid_upload_answers_500_with_a_sentence_and_the_upload_resumes(
        prepared, copy_home):
    draft = prepared["draft"]
    home = copy_home("drafted")
    session, data = session_for(draft), body(250)
    plain = start_with_fault(home, f"write:2:EIO:{home.content_dir}/uploads/")
    url = create_tus(session, home, draft["draft"], data, "notes.pdf")
    assert patch(session, url, data, 0).status_code == 204
    failed = patch(session, url, data, CHUNK)
    assert failed.status_code == 500 and "could not write the upload to its disk" in \
        failed.json()["detail"], failed.text
    assert home.injected() and offset_of(session, url) == CHUNK

    restart_without_fault(home, plain)
    offset = offset_of(session, url)
    while offset < len(data):
        sent = patch(session, url, data, offset)
        assert sent.status_code == 204, sent.text
        offset = int(sent.headers["Upload-Offset"])
    shown = session.get(url, timeout=30).json()
    assert shown["state"] == "Finished" and shown["checksum"] == hashlib.md5(data).hexdigest()
    home.stop()
    assert partial_uploads(home) == {} and home.temp_leftovers() == []
    home.check()
