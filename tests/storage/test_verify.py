"""verifystorage's service (storage.verify): finds missing, corrupt, unregistered and unreferenced
files, names the channels affected, and makes their nodes unavailable in the content API."""

from __future__ import annotations

import sqlite3

import pytest

from channels.references import ChannelReferenceSource
from storage.files import present_checksums, put_file
from storage.gc import StorageBusyError, maintenance_lock
from storage.models import StoredFile
from storage.paths import storage_path
from storage.verify import verify_storage

pytestmark = pytest.mark.django_db


def leaf_files(channel) -> list[tuple[str, str, str]]:
    """(node id, checksum, extension) of each leaf's file, read from the channel file itself."""
    with sqlite3.connect(f"file:{channel.path}?mode=ro", uri=True) as connection:
        return connection.execute(
            "SELECT f.contentnode_id, l.id, l.extension FROM content_file AS f "
            "JOIN content_localfile AS l ON l.id = f.local_file_id ORDER BY f.contentnode_id"
        ).fetchall()


def node_available(client, channel_id: str, node_id: str) -> bool:
    response = client.get(f"/api/content/{channel_id}/contentnode/{node_id}/")
    assert response.status_code == 200
    return response.json()["available"]


def test_a_clean_store_has_no_problems(make_channel):
    make_channel("maths")
    report = verify_storage()
    assert report.problem_count == 0
    assert report.checked == StoredFile.objects.count() == 6
    assert report.unreferenced == []


def test_a_missing_file_loses_its_row_and_its_node_becomes_unavailable(client, make_channel):
    maths = make_channel("maths")
    node_id, checksum, extension = leaf_files(maths)[0]
    other_node = leaf_files(maths)[1][0]
    assert node_available(client, maths.channel_id, node_id)
    storage_path(checksum, extension).unlink()

    report = verify_storage()

    assert [finding.checksum for finding in report.missing] == [checksum]
    assert report.problem_count == 1
    assert present_checksums({checksum}) == set()
    assert not node_available(client, maths.channel_id, node_id)
    assert node_available(client, maths.channel_id, other_node)
    assert report.affected == {checksum: [f"channel Maths ({maths.channel_id}) version 1, current"]}


def test_a_corrupt_file_is_reported_and_its_node_becomes_unavailable(client, make_channel):
    maths = make_channel("maths")
    node_id, checksum, extension = leaf_files(maths)[0]
    path = storage_path(checksum, extension)
    path.write_bytes(b"%PDF-1.4 flipped bits on a cheap SD card\n")

    report = verify_storage()

    assert [finding.checksum for finding in report.corrupt] == [checksum]
    assert "MD5" in report.corrupt[0].detail and not report.corrupt[0].repaired
    assert not node_available(client, maths.channel_id, node_id)
    assert path.exists()  # reported only; --repair moves it
    assert maths.channel_id in report.affected[checksum][0]

    again = verify_storage(repair=True)
    assert [finding.checksum for finding in again.corrupt] == [checksum]
    assert again.corrupt[0].repaired and not path.exists()
    quarantined = list((path.parents[2].parent / "quarantine").iterdir())
    assert len(quarantined) == 1 and quarantined[0].name.startswith(f"{checksum}.{extension}.")
    assert verify_storage().problem_count == 0


def test_a_file_whose_sha256_differs_from_the_registry_is_corrupt(make_channel):
    maths = make_channel("maths")
    _node_id, checksum, _extension = leaf_files(maths)[0]
    StoredFile.objects.filter(checksum=checksum).update(sha256="0" * 64)

    report = verify_storage()

    assert [finding.checksum for finding in report.corrupt] == [checksum]
    assert "SHA-256" in report.corrupt[0].detail


def test_an_unregistered_file_is_reported_and_registered_by_repair(client, make_channel):
    maths = make_channel("maths")
    node_id, checksum, _extension = leaf_files(maths)[0]
    StoredFile.objects.filter(checksum=checksum).delete()
    assert not node_available(client, maths.channel_id, node_id)

    report = verify_storage()
    assert [(finding.checksum, finding.repaired) for finding in report.unregistered] == [
        (checksum, False)]
    assert report.problem_count == 1

    repaired = verify_storage(repair=True)
    assert repaired.unregistered[0].repaired
    assert node_available(client, maths.channel_id, node_id)
    assert verify_storage().problem_count == 0


def test_a_wrongly_named_loose_file_is_corrupt_and_quarantined(place_in_storage, db):
    placed = place_in_storage(b"some bytes", "bin")
    wrong = placed.path.with_name(placed.checksum[:2] + "0" * 30 + ".bin")
    placed.path.rename(wrong)

    report = verify_storage(sources=[ChannelReferenceSource()])
    assert report.unrecognised == [] and len(report.corrupt) == 1
    assert wrong.exists()

    verify_storage(repair=True, sources=[ChannelReferenceSource()])
    assert not wrong.exists()


def test_unreferenced_and_unrecognised_files_are_reported_not_problems(make_channel, content_dir):
    make_channel("maths")
    garbage = put_file(b"nobody uses this any more", "pdf")
    stray = content_dir / "storage" / "notes.txt"
    stray.write_text("someone's notes")

    report = verify_storage()

    assert report.unreferenced == [garbage.checksum]
    assert report.unrecognised == [stray]
    assert report.problem_count == 0


def test_a_failing_source_is_a_problem_but_the_files_are_still_checked(make_channel, settings):
    make_channel("maths")
    settings.STORAGE_REFERENCE_SOURCES = ["channels.references.ChannelReferenceSource",
                                          "tests.storage.test_gc.BrokenSource"]
    report = verify_storage()
    assert report.checked == 6
    assert "broken-certificates" in report.source_errors
    assert report.problem_count == 1


def test_it_waits_for_no_collector(make_channel):
    make_channel("maths")
    with maintenance_lock():
        with pytest.raises(StorageBusyError):
            verify_storage()


def test_progress_is_reported_per_file(make_channel):
    make_channel("maths")
    seen: list[tuple[str, int, int]] = []
    verify_storage(progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert seen[-1] == ("verify", 6, 6) and len(seen) == 6
