"""Homes prepared once for every fault test, copied per test (tests.faults.homes):

- `blank`: migrated, nothing installed;
- `source`: a 20-node demo channel with its files (also the peer server of the network tests);
- `channel_only`: the channel's version 1 installed, none of its files;
- `installed`: the channel's version 1 and all its files;
- `drive`: the channel's version 1, database and files; `newer_drive`: its version 2
  (database only);
- `drafted`: an author's open draft (`draft`: its id and the author's token).
"""

from __future__ import annotations

from collections.abc import Iterator
import pytest

from tests.faults.homes import FaultHome
from tests.kolibri_like.crash_homes import CrashHome

# A second version of an installed channel: its kept file with the number raised.
SECOND_VERSION = """
import json, shutil, sqlite3
from channels.versions import install_channel_version, version_database_path
from storage.paths import temp_root
copy = temp_root() / "second.sqlite3"
shutil.copy(version_database_path(%(channel)r, 1), copy)
with sqlite3.connect(copy) as connection:
    connection.execute("UPDATE content_channelmetadata SET version = 2")
connection.close()
print(json.dumps(install_channel_version(copy, %(channel)r, source_label="test").version.number))
"""

# An author, "erin", with an open draft and an API token.
MAKE_DRAFT = """
import json
from accounts.models import User
from authoring.models import Draft
from rest_framework.authtoken.models import Token
erin = User.objects.create_user("erin", password="erin-pass", role="author")
draft = Draft.objects.create(owner=erin, name="Fractions", topics=["Halves"])
print(json.dumps({"draft": str(draft.id), "token": Token.objects.create(user=erin).key}))
"""


@pytest.fixture(scope="session")
def prepared(tmp_path_factory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("faults")
    blank = CrashHome(root / "blank").migrated()
    source = blank.copy_to(root / "source")
    channel_id = source.run("generate_demo_channel", "--nodes", "20", "--seed", "5") \
        .stdout.split()[-1]
    drive = root / "drive"
    drive.mkdir()
    source.run("exportcontent", channel_id, str(drive))
    channel_only = blank.copy_to(root / "channel-only")
    channel_only.run("importchannel", "disk", channel_id, str(drive))
    installed = channel_only.copy_to(root / "installed")
    installed.run("importcontent", "disk", channel_id, str(drive))
    newer = installed.copy_to(root / "newer")
    assert newer.shell(SECOND_VERSION % {"channel": channel_id}) == 2
    newer_drive = root / "newer-drive"
    newer_drive.mkdir()
    newer.run("exportchannel", channel_id, str(newer_drive))
    drafted = blank.copy_to(root / "drafted")
    draft = drafted.shell(MAKE_DRAFT)
    homes = [blank, source, channel_only, installed, newer, drafted]
    yield {"blank": blank, "source": source, "channel_only": channel_only,
           "installed": installed, "channel_id": channel_id,
           "drive": drive, "newer_drive": newer_drive,
           "drafted": drafted, "draft": draft,
           "files": len(installed.rows("SELECT checksum FROM storage_storedfile"))}
    for home in homes:
        home.stop()
        home.drop_database()


@pytest.fixture
def copy_home(prepared, tmp_path) -> Iterator:
    """copy_home("installed") -> a FaultHome of its own, dropped after the test."""
    made: list[FaultHome] = []

    def copy(name: str) -> FaultHome:
        home = FaultHome.of(prepared[name], tmp_path / f"{name}-{len(made)}")
        made.append(home)
        return home

    yield copy
    for home in made:
        home.stop()
        home.drop_database()

