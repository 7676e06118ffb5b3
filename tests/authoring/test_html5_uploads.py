"""HTML5 apps (zip) in the wizard: a good archive is stored and publishes as an html5 node; one
that fails the archive checks is refused with 400 and each problem, and leaves nothing."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from authoring.models import Draft, DraftFile, UploadRecord
from authoring.publish import publish_draft
from routers.context import using_content_database
from storage.models import StoredFile
from storage.paths import storage_path
from tests.authoring.test_api_files import create, partial_files, patch_chunk, token_client

pytestmark = pytest.mark.django_db(databases="__all__")

INDEX = b"<!doctype html><title>Shapes</title><script src='app.js'></script>"


def app_zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            # ZipInfo keeps the name as given (writestr with a str would strip a leading "/").
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


GOOD = app_zip({"index.html": INDEX, "app.js": b"document.title = 'ok';"})
REFUSED = {
    # 64 MiB of zeros deflate to about 64 KiB: a thousand times, far past the limit.
    "bomb": (app_zip({"index.html": INDEX, "zeros.bin": bytes(64 << 20)}), "inflates"),
    "climbs out": (app_zip({"index.html": INDEX, "../x.html": INDEX}), "'../x.html'"),
    "absolute": (app_zip({"index.html": INDEX, "/abs.html": INDEX}), "'/abs.html'"),
    "no index": (app_zip({"start.html": INDEX}), "no index.html"),
}


@pytest.fixture
def draft(author_user) -> Draft:
    return Draft.objects.create(owner=author_user, name="Shapes")


def post_whole(client, draft: Draft, data: bytes, name: str = "shapes.zip"):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(f"/api/drafts/{draft.id}/files/", {"file": upload}, format="multipart")


def nothing_left() -> bool:
    return not StoredFile.objects.exists() and not partial_files() \
        and not UploadRecord.objects.exists()


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_app_is_400_with_its_problems_and_leaves_nothing(author_user, draft, case):
    data, words = REFUSED[case]
    response = post_whole(token_client(author_user), draft, data)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert any(words in problem for problem in body["problems"]), body
    assert words in body["detail"] and "HTML5 app" in body["detail"]
    assert not DraftFile.objects.exists() and nothing_left()


def test_a_refused_app_sent_by_tus_ends_in_error_with_its_bytes_gone(author_user, draft):
    client = token_client(author_user)
    data, _words = REFUSED["climbs out"]
    location = create(client, draft, len(data), filename="shapes.zip")["Location"]
    refused = patch_chunk(client, location, 0, data)
    assert refused.status_code == 400
    assert "'../x.html'" in refused.json()["problems"][0]
    body = client.get(location).json()
    assert body["state"] == "Error" and "'../x.html'" in body["error"]
    assert nothing_left()


def test_a_good_app_is_stored_and_publishes_as_an_html5_node(author_user, draft):
    response = post_whole(token_client(author_user), draft, GOOD)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "Finished" and body["checksum"] == hashlib.md5(GOOD).hexdigest()
    assert storage_path(body["checksum"], "zip").read_bytes() == GOOD
    Draft.objects.filter(id=draft.id).update(name="Shapes", description="Learn shapes")
    channel_id = publish_draft(author_user, draft.id).channel_id
    from content.models import ContentNode, File

    with using_content_database(channel_id):
        node = ContentNode.objects.get(kind="html5")
        preset = File.objects.get(contentnode=node).preset
    assert preset == "html5_zip"
