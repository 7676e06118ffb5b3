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
    POST /api/tasks/ {"kind": "scan"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    params, progress = context.params, context.progress
    channel_id = params["channel_id"]
    selection = {"node_ids": params.get("node_ids"),
                 "exclude_node_ids": params.get("exclude_node_ids")}
    if params["source"] == "disk":
        from channels.transfer import disk

        disk.import_channel_from_disk(channel_id, params["drive"], progress=progress,
                                      created_by=context.created_by)
        if params["content"]:
            disk.import_content_from_disk(channel_id, params["drive"], progress=progress,
                                          **selection)
    else:
        from channels.transfer import network

        network.import_channel_from_network(channel_id, params["url"], progress=progress,
                                            created_by=context.created_by)
        if params["content"]:
            network.import_content_from_network(channel_id, params["url"], progress=progress,
                                                **selection)
    return {"channel_id": channel_id}


def clean_export(raw: Mapping[str, Any]) -> dict[str, Any]:
    reject_unknown_params(raw, {"channel_id", "drive", "node_ids", "exclude_node_ids"})
    return {"channel_id": clean_channel_id(raw, "channel_id"),
            "drive": clean_drive(raw, "drive"),
            "node_ids": clean_node_ids(raw, "node_ids"),
            "exclude_node_ids": clean_node_ids(raw, "exclude_node_ids")}


def run_export(context: JobContext) -> dict[str, Any]:
    from channels.transfer import disk

    params, progress = context.params, context.progress
    channel_id, drive = params["channel_id"], params["drive"]
    # Content first, the database last: a drive pulled out mid-export never shows a channel
    # whose files are not all there.
    disk.export_content_to_disk(channel_id, drive, node_ids=params.get("node_ids"),
                                exclude_node_ids=params.get("exclude_node_ids"),
                                progress=progress)
    disk.export_channel_to_disk(channel_id, drive, progress=progress)
    return {"channel_id": channel_id, "drive": drive}


def clean_scan(raw: Mapping[str, Any]) -> dict[str, Any]:
    reject_unknown_params(raw, set())
    return {}


def run_scan(context: JobContext) -> dict[str, Any]:
    from channels.services import scan_channels

    context.progress.update("scanning the databases folder", 0, 1)
    report = scan_channels()
    context.progress.update("scanning the databases folder", 1, 1)
    return {"registered": list(report.registered), "rejected": dict(report.rejected),
            "missing": list(report.missing), "unchanged": len(report.unchanged)}


IMPORT = register_kind(JobKind(name="import", title="Import a channel", clean=clean_import,
                               handler=run_import, channel_param="channel_id"), replace=True)
EXPORT = register_kind(JobKind(name="export", title="Export a channel to a drive",
                               clean=clean_export, handler=run_export,
                               channel_param="channel_id"), replace=True)
SCAN = register_kind(JobKind(name="scan", title="Rescan the databases folder", clean=clean_scan,
                             handler=run_scan), replace=True)
