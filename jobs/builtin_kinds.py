"""The kinds of job the web UI starts: import, export, scan.

The handlers call the channel transfer services (channels.transfer.*), imported inside the
handler so that this module loads even where they are missing, and pass the job's reporter as
`progress=`. Imports and exports resume: a re-run (a retry by the reaper, or the admin pressing
Import again) skips what is already copied.

    POST /api/tasks/ {"kind": "import", "source": "disk", "channel_id": "...",
                      "drive": "/media/usb", "content": true, "node_ids": [...]}
    POST /api/tasks/ {"kind": "import", "source": "network", "channel_id": "...",
                      "url": "http://192.168.1.10:8000"}
    POST /api/tasks/ {"kind": "export", "channel_id": "...", "drive": "/media/usb"}
    POST /api/tasks/ {"kind": "resume", "import_id": 3}       # an unfinished import
    POST /api/tasks/ {"kind": "scan"}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from django.utils.translation import gettext, gettext_lazy

from jobs.errors import InvalidJobParamsError

from jobs.kinds import JobContext, JobKind, register_kind
from jobs.params import (
    clean_bool,
    clean_channel_id,
    clean_choice,
    clean_drive,
    clean_node_ids,
    clean_peer_url,
    reject_unknown_params,
)

IMPORT_SOURCES = ("disk", "network")
MAX_LISTED_FAILURES = 5


def clean_import(raw: Mapping[str, Any]) -> dict[str, Any]:
    source = clean_choice(raw, "source", IMPORT_SOURCES)
    where = "drive" if source == "disk" else "url"
    reject_unknown_params(raw, {"source", "channel_id", where, "node_ids", "exclude_node_ids",
                                "content"})
    params: dict[str, Any] = {"source": source, "channel_id": clean_channel_id(raw, "channel_id"),
                              "content": clean_bool(raw, "content", True)}
    if source == "disk":
        params["drive"] = clean_drive(raw, "drive")
    else:
        params["url"] = clean_peer_url(raw, "url")
    params["node_ids"] = clean_node_ids(raw, "node_ids")
    params["exclude_node_ids"] = clean_node_ids(raw, "exclude_node_ids")
    return params


def run_import(context: JobContext) -> dict[str, Any]:
    """The database (a new version if the source's is newer), then the files (resuming)."""
    params, progress = context.params, context.progress
    channel_id = params["channel_id"]
    selection = {"node_ids": params.get("node_ids"),
                 "exclude_node_ids": params.get("exclude_node_ids")}
    if params["source"] == "disk":
        from channels.transfer import disk

        channel = disk.import_channel_from_disk(channel_id, params["drive"], progress=progress,
                                                created_by=context.created_by)
        content = disk.import_content_from_disk(
            channel_id, params["drive"], progress=progress, **selection) \
            if params["content"] else None
    else:
        from channels.transfer import network

        channel = network.import_channel_from_network(
            channel_id, params["url"], progress=progress, created_by=context.created_by)
        content = network.import_content_from_network(
            channel_id, params["url"], progress=progress, **selection) \
            if params["content"] else None
    return {"channel": summary(channel), "content": summary(content)}


def clean_export(raw: Mapping[str, Any]) -> dict[str, Any]:
    reject_unknown_params(raw, {"channel_id", "drive", "node_ids", "exclude_node_ids",
                                "content"})
    return {"channel_id": clean_channel_id(raw, "channel_id"),
            "drive": clean_drive(raw, "drive"),
            "content": clean_bool(raw, "content", True),
            "node_ids": clean_node_ids(raw, "node_ids"),
            "exclude_node_ids": clean_node_ids(raw, "exclude_node_ids")}


def run_export(context: JobContext) -> dict[str, Any]:
    """The files, the manifest and then the database, last (export_content_to_disk does all
    three in that order: a drive pulled out mid-export never shows a half channel); or the
    database alone."""
    from channels.transfer import disk

    params, progress = context.params, context.progress
    channel_id, drive = params["channel_id"], params["drive"]
    if params.get("content", True):
        result = disk.export_content_to_disk(channel_id, drive, node_ids=params.get("node_ids"),
                                             exclude_node_ids=params.get("exclude_node_ids"),
                                             progress=progress)
    else:
        result = disk.export_channel_to_disk(channel_id, drive, progress=progress)
    return {"export": summary(result)}


def clean_resume(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An unfinished import (channels.transfer.imports) by its id; the channel comes from it."""
    reject_unknown_params(raw, {"import_id"})
    import_id = raw.get("import_id")
    if isinstance(import_id, str) and import_id.isascii() and import_id.isdigit():
        import_id = int(import_id)
    if not isinstance(import_id, int) or isinstance(import_id, bool) or import_id < 1:
        raise InvalidJobParamsError("import_id", gettext("the number of an unfinished import"))
    from channels.transfer.imports import unfinished_imports

    found = next((item for item in unfinished_imports() if item.id == import_id), None)
    if found is None:
        raise InvalidJobParamsError("import_id", gettext("no unfinished import %(import_id)s")
                                    % {"import_id": import_id})
    return {"import_id": import_id, "channel_id": found.channel_id}


def run_resume(context: JobContext) -> dict[str, Any]:
    from channels.transfer.imports import resume_import

    result = resume_import(context.params["import_id"], progress=context.progress)
    return {"content": summary(result)}


def summary(result: object) -> dict[str, Any] | None:
    """A transfer result as JSON for the job row: numbers and names, failures counted (the
    first few named), paths as text."""
    if result is None or not is_dataclass(result) or isinstance(result, type):
        return None
    data: dict[str, Any] = {}
    for item in fields(result):
        value = getattr(result, item.name)
        if isinstance(value, list):
            data[item.name] = len(value)
            data[f"{item.name}_first"] = [str(getattr(entry, "name", entry))
                                          for entry in value[:MAX_LISTED_FAILURES]]
        elif isinstance(value, (str, int, float, bool)) or value is None:
            data[item.name] = value
        else:
            data[item.name] = str(value)
    return data


def clean_scan(raw: Mapping[str, Any]) -> dict[str, Any]:
    reject_unknown_params(raw, set())
    return {}


def run_scan(context: JobContext) -> dict[str, Any]:
    from channels.dropped import install_dropped_older_files
    from channels.services import scan_channels

    context.progress.update("scanning the databases folder", 0, 1)
    # As `scanchannels`: a file in an older schema is served as a normalised copy.
    normalised = [outcome.message for outcome in install_dropped_older_files()]
    report = scan_channels()
    context.progress.update("scanning the databases folder", 1, 1)
    result = {"registered": list(report.registered), "rejected": dict(report.rejected),
              "missing": list(report.missing), "unchanged": len(report.unchanged)}
    return {**result, "normalised": normalised} if normalised else result


IMPORT = register_kind(JobKind(name="import", title=gettext_lazy("Import a channel"), clean=clean_import,
                               handler=run_import, channel_param="channel_id"), replace=True)
EXPORT = register_kind(JobKind(name="export", title=gettext_lazy("Export a channel to a drive"),
                               clean=clean_export, handler=run_export,
                               channel_param="channel_id"), replace=True)
RESUME = register_kind(JobKind(name="resume", title=gettext_lazy("Resume an unfinished import"),
                               clean=clean_resume, handler=run_resume,
                               channel_param="channel_id"), replace=True)
SCAN = register_kind(JobKind(name="scan", title=gettext_lazy("Rescan the databases folder"), clean=clean_scan,
                             handler=run_scan), replace=True)
