"""Channel files in an older Studio schema dropped straight into CONTENT_DIR/databases/.

An admin may copy `<channel_id>.sqlite3` from a Kolibri drive into the databases folder by hand
instead of running `importchannel disk`. If that file is in an older content schema, serving it
as it is would fail (the models read the current columns), so `scanchannels` first calls
`install_dropped_older_files`, which for each such file:

1. keeps the dropped file as it is, under CONTENT_DIR/dropped-databases/ (a hard link, so no
   copy; the file itself is never written);
2. writes a normalised copy in the current schema (channels.normalise, as an import does) and
   installs it as a version of the channel, made current: the served path now holds the copy;
3. if that version number is already kept here, serves the kept copy again instead.

A file that fits no schema or is damaged is left where it is for the scan, which refuses it
with the reason. What was done is returned in words for the command to print.

    for line in install_dropped_older_files():
        print(line)
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from channels.errors import InvalidChannelDatabaseError, VersionExistsError
from channels.models import Channel, ChannelVersion
from channels.normalise import normalised_copy, schema_of
from channels.schema_versions import describe
from routers.ids import is_valid_channel_id

logger = logging.getLogger(__name__)
KEPT_FOLDER_NAME = "dropped-databases"


@dataclass(frozen=True)
class DroppedFileOutcome:
    channel_id: str
    message: str
    installed: bool


def kept_folder() -> Path:
    return Path(settings.CONTENT_DIR) / KEPT_FOLDER_NAME


def install_dropped_older_files() -> list[DroppedFileOutcome]:
    """Install a normalised copy of every older-schema file in the databases folder (see the
    module doc); files the registry already knows unchanged are not opened."""
    outcomes: list[DroppedFileOutcome] = []
    for path in sorted(Path(settings.CONTENT_DATABASE_DIR).glob("*.sqlite3")):
        channel_id = path.name.removesuffix(".sqlite3")
        if not is_valid_channel_id(channel_id) or _known_unchanged(channel_id, path):
            continue
        try:
            schema = schema_of(path)
        except InvalidChannelDatabaseError:
            continue  # damaged: the scan refuses it with the reason
        if schema.problem or schema.is_current:
            continue
        kept = _keep(path, channel_id, schema.name or "unknown")
        try:
            outcomes.append(_install_copy(path, channel_id, describe(schema.name or ""), kept))
        except VersionExistsError as exists:
            outcomes.append(_serve_kept_version(channel_id, exists, kept))
        except InvalidChannelDatabaseError as error:
            kept.unlink(missing_ok=True)  # the dropped file stays where it was
            outcomes.append(DroppedFileOutcome(
                channel_id, f"could not normalise {path.name}: {error.reason}", False))
    return outcomes


def _known_unchanged(channel_id: str, path: Path) -> bool:
    known = Channel.objects.filter(id=channel_id).first()
    if known is None or known.state == Channel.State.REJECTED:
        return False  # a scan at start-up may have refused it for its schema: look again
    stat = path.stat()
    return known.file_size == stat.st_size and known.file_mtime_ns == stat.st_mtime_ns


def _keep(path: Path, channel_id: str, schema_name: str) -> Path:
    from channels.versions import link_or_copy

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    safe_schema = "".join(character if character.isalnum() or character in ".-" else "_"
                          for character in schema_name)
    kept = kept_folder() / f"{channel_id}-schema-{safe_schema}-{stamp}.sqlite3"
    link_or_copy(path, kept)
    return kept


def _install_copy(path: Path, channel_id: str, schema_words: str,
                  kept: Path) -> DroppedFileOutcome:
    from channels.versions import install_channel_version

    with normalised_copy(path) as copy:
        installed = install_channel_version(
            copy, channel_id, source_label=f"found in databases/ ({schema_words}), normalised",
            move=True)
    number = installed.version.number
    logger.info("installed a normalised copy of %s as version %s", path, number)
    return DroppedFileOutcome(
        channel_id, f"{path.name} was in an older schema ({schema_words}): installed a "
        f"normalised copy as version {number}; the dropped file is kept as {kept}", True)


def _serve_kept_version(channel_id: str, exists: VersionExistsError,
                        kept: Path) -> DroppedFileOutcome:
    from channels.versions import make_version_current

    number = exists.number
    version = ChannelVersion.objects.get(channel_id=channel_id, number=number)
    make_version_current(channel_id, version)
    return DroppedFileOutcome(
        channel_id, f"version {number} of {channel_id} is already kept here: serving that copy "
        f"again; the dropped older-schema file is kept as {kept}", True)
