"""Checks of job parameters (jobs.params, jobs.builtin_kinds): every bad value names its field."""

from __future__ import annotations

import pytest

from jobs.builtin_kinds import clean_export, clean_import, clean_scan
from jobs.errors import InvalidJobParamsError

CHANNEL_ID = "a" * 32
NODE_ID = "b" * 32


def field_of(clean, raw) -> str:
    with pytest.raises(InvalidJobParamsError) as error:
        clean(raw)
    return error.value.field


def test_a_disk_import_takes_an_existing_folder(tmp_path):
    params = clean_import({"kind": "import", "source": "disk", "channel_id": CHANNEL_ID,
                           "drive": str(tmp_path) + "/", "node_ids": [NODE_ID, NODE_ID]})
    assert params == {"source": "disk", "channel_id": CHANNEL_ID, "drive": str(tmp_path),
                      "content": True, "node_ids": [NODE_ID], "exclude_node_ids": None}


def test_a_network_import_takes_any_http_host_the_admin_typed():
    params = clean_import({"source": "network", "channel_id": CHANNEL_ID,
                           "url": " http://192.168.1.10:8000/ ", "content": False,
                           "exclude_node_ids": f"{NODE_ID}, {'c' * 32}"})
    assert params["url"] == "http://192.168.1.10:8000"
    assert params["content"] is False
    assert params["exclude_node_ids"] == [NODE_ID, "c" * 32]
    assert clean_import({"source": "network", "channel_id": CHANNEL_ID,
                         "url": "https://district.example.org/kolibri"})["url"] == \
        "https://district.example.org/kolibri"


@pytest.mark.parametrize("channel_id", [None, "A" * 32, "a" * 31, "a" * 32 + "\n",
                                        "0x" + "a" * 30, 12, "{" + "a" * 30 + "}",
                                        "١" * 32])
def test_channel_ids_are_32_lowercase_hex(channel_id, tmp_path):
    raw = {"source": "disk", "drive": str(tmp_path)}
    if channel_id is not None:
        raw["channel_id"] = channel_id
    assert field_of(clean_import, raw) == "channel_id"


@pytest.mark.parametrize("drive", ["", "relative/path", "/no/such/folder", None, 7, "/tmp\x00x"])
def test_a_drive_must_be_an_existing_absolute_folder(drive):
    raw: dict[str, object] = {"channel_id": CHANNEL_ID}
    if drive is not None:
        raw["drive"] = drive
    assert field_of(clean_import, {"source": "disk", **raw}) == "drive"
    assert field_of(clean_export, raw) == "drive"


def test_a_file_is_not_a_drive(tmp_path):
    file_path = tmp_path / "file.txt"
    file_path.write_text("x")
    assert field_of(clean_export, {"channel_id": CHANNEL_ID, "drive": str(file_path)}) == "drive"


@pytest.mark.parametrize("url", ["", "ftp://host/", "file:///etc/passwd", "http://",
                                 "http://user:pw@host/", "http://host/?q=1", "http://host/#x",
                                 "http://host:99999/", "http://ho st/", "javascript:alert(1)",
                                 "//host/"])
def test_a_peer_url_is_plain_http_or_https(url):
    assert field_of(clean_import, {"source": "network", "channel_id": CHANNEL_ID,
                                   "url": url}) == "url"


@pytest.mark.parametrize("node_ids", [["x"], "abc", [NODE_ID.upper()], {"a": 1}, [None]])
def test_node_ids_are_checked(node_ids, tmp_path):
    assert field_of(clean_export, {"channel_id": CHANNEL_ID, "drive": str(tmp_path),
                                   "node_ids": node_ids}) == "node_ids"


def test_unknown_source_content_and_params_are_refused(tmp_path):
    base = {"channel_id": CHANNEL_ID, "drive": str(tmp_path)}
    assert field_of(clean_import, {**base, "source": "usb"}) == "source"
    assert field_of(clean_import, {**base, "source": "disk", "content": "yes"}) == "content"
    assert field_of(clean_import, {**base, "source": "disk", "node-ids": [NODE_ID]}) == "node-ids"
    assert field_of(clean_import, {**base, "source": "disk", "url": "http://x"}) == "url"
    assert field_of(clean_scan, {"path": "/"}) == "path"
    assert clean_scan({"kind": "scan"}) == {}
