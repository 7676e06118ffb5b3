"""drf-spectacular's hooks, named in SPECTACULAR_SETTINGS (through the package): `load` before
it looks at the views, `describe_path_ids` on the finished document."""

from __future__ import annotations

from typing import Any

from kolibri_like.openapi.pieces import HEX_ID

HEX_PATTERN = "^[0-9a-f]{32}$"
PATH_IDS = {
    "channel_id": ("A channel id: " + HEX_ID + ".", {"pattern": HEX_PATTERN}),
    "node_id": ("A node id: " + HEX_ID + ".", {"pattern": HEX_PATTERN}),
    "draft_id": ("A draft's id.", {"format": "uuid"}),
    "file_id": ("A draft file's id.", {"format": "uuid"}),
    "job_id": ("A task's id.", {"format": "uuid"}),
    "certificate_id": ("A certificate's id.", {"format": "uuid"}),
}


def describe_path_ids(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: what each id in a path looks like (a malformed one answers 404).

    The URLs take any string (`<str:channel_id>`) so that the views answer a JSON 404, which
    leaves drf-spectacular only "string" to say; the channel API's `pk` became `id`.
    """
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                if parameter["in"] != "path":
                    continue
                if name == "id" and path.startswith("/api/channels/"):
                    name = "channel_id"
                if name in PATH_IDS:
                    description, schema = PATH_IDS[name]
                    parameter["description"] = description
                    parameter["schema"] = {"type": "string", **schema}
    return result


def load(endpoints: list[Any]) -> list[Any]:
    """Preprocessing hook: its only job is to get the package imported, which registers every
    area's descriptions (see kolibri_like/openapi/__init__.py)."""
    return endpoints
