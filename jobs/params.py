"""Checks of job parameters as a client sends them (JSON): plain functions, one per shape.

Each returns the clean value or raises InvalidJobParamsError naming the field. Ids are checked
with `re.fullmatch` (DESIGN.md invariant 6); a URL may name any host the admin typed (the
server only talks to what the admin names), but only http(s), with a host and no credentials.

    channel_id = clean_channel_id(raw, "channel_id")
    drive = clean_drive(raw, "drive")                  # an existing folder, absolute
    base_url = clean_peer_url(raw, "url")               # "http://10.0.0.5:8000"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.utils.translation import gettext

from jobs.errors import InvalidJobParamsError
from routers.ids import is_valid_channel_id

MAX_NODE_IDS = 100_000
MAX_PATH_LENGTH = 4096
MAX_URL_LENGTH = 2048


def reject_unknown_params(raw: Mapping[str, Any], allowed: set[str]) -> None:
    """A typo (`node-ids`) must not be silently ignored: the whole channel would be copied."""
    unknown = sorted(set(raw) - allowed - {"kind"})
    if unknown:
        raise InvalidJobParamsError(unknown[0], gettext("unknown parameter; allowed: %(allowed)s")
                                    % {"allowed": ", ".join(sorted(allowed)) or gettext("none")})


def clean_channel_id(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    if value is None:
        raise InvalidJobParamsError(field, gettext("required"))
    if not is_valid_channel_id(value):
        raise InvalidJobParamsError(field, gettext("a channel id is 32 lowercase hex characters"))
    return str(value)


def clean_node_ids(raw: Mapping[str, Any], field: str) -> list[str] | None:
    """A list of node ids, or a comma-separated string of them (as the command line takes)."""
    value = raw.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise InvalidJobParamsError(field, gettext("a list of node ids"))
    if len(value) > MAX_NODE_IDS:
        raise InvalidJobParamsError(field, gettext("at most %(count)s node ids")
                                    % {"count": MAX_NODE_IDS})
    for node_id in value:
        if not is_valid_channel_id(node_id):
            raise InvalidJobParamsError(field, gettext(
                "%(value)r is not a node id (32 lowercase hex characters)")
                % {"value": str(node_id)[:40]})
    return list(dict.fromkeys(value))


def clean_bool(raw: Mapping[str, Any], field: str, default: bool) -> bool:
    value = raw.get(field, default)
    if not isinstance(value, bool):
        raise InvalidJobParamsError(field, gettext("true or false"))
    return value


def clean_choice(raw: Mapping[str, Any], field: str, choices: tuple[str, ...]) -> str:
    value = raw.get(field)
    if value not in choices:
        raise InvalidJobParamsError(field, gettext("one of %(choices)s")
                                    % {"choices": ", ".join(choices)})
    return str(value)


def clean_drive(raw: Mapping[str, Any], field: str) -> str:
    """An absolute path to an existing folder: a drive's root or its KOLIBRI_DATA folder."""
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidJobParamsError(field, gettext("required: the path of a drive or folder"))
    path = value.strip()
    if len(path) > MAX_PATH_LENGTH or "\x00" in path:
        raise InvalidJobParamsError(field, gettext("not a usable path"))
    if not os.path.isabs(path):
        raise InvalidJobParamsError(field, gettext("give the full path, starting with /"))
    if not os.path.isdir(path):
        raise InvalidJobParamsError(field, gettext(
            "no folder %(path)s on this server; is the drive plugged in and mounted?")
            % {"path": path})
    return os.path.normpath(path)


def clean_peer_url(raw: Mapping[str, Any], field: str) -> str:
    """An http(s) base URL of another server, without query, fragment or credentials."""
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidJobParamsError(field, gettext("required: the address of the other server, "
                                                   "like http://192.168.1.10:8000"))
    text = value.strip()
    if len(text) > MAX_URL_LENGTH or any(ord(char) < 33 or ord(char) == 127 for char in text):
        raise InvalidJobParamsError(field, gettext("not a usable address"))
    try:
        parts = urlsplit(text)
        _port = parts.port  # a port that is not a number in 0-65535 raises ValueError
    except ValueError:
        raise InvalidJobParamsError(field, gettext("not a usable address")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidJobParamsError(field, gettext("an http:// or https:// address with a host name"))
    if parts.username is not None or parts.password is not None:
        raise InvalidJobParamsError(field, gettext("the address must not contain a user name or password"))
    if parts.query or parts.fragment:
        raise InvalidJobParamsError(field, gettext("the address must not contain ? or #"))
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
