"""What a job can be: a registry of kinds, each with its parameter check and its handler.

A kind turns the JSON a client posted into clean parameters (raising InvalidJobParamsError
naming the field), says who may start it, and has a handler that does the work through a
service, reporting progress to `context.progress` (which raises JobCancelledError inside
`update()` once someone cancels). Built-in kinds live in jobs/builtin_kinds.py.

    def clean_rescan(raw: Mapping[str, Any]) -> dict[str, Any]:
        reject_unknown_params(raw, set())
        return {}

    register_kind(JobKind(name="scan", title="Rescan the databases folder",
                          clean=clean_rescan, handler=lambda context: scan()))
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jobs.errors import UnknownJobKindError
from jobs.runners import JobProgress


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: ids and clean parameters, never a model instance."""

    job_id: str
    params: dict[str, Any]
    progress: JobProgress
    created_by_id: int | None

    @property
    def created_by(self) -> Any:
        if self.created_by_id is None:
            return None
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=self.created_by_id).first()


Handler = Callable[[JobContext], Mapping[str, Any] | None]
Cleaner = Callable[[Mapping[str, Any]], dict[str, Any]]


def anyone_allowed(user: Any, params: Mapping[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class JobKind:
    name: str
    title: str
    clean: Cleaner
    handler: Handler
    # Only admins may start it (checked before the parameters, so others learn nothing).
    admin_only: bool = True
    # A finer check with the clean parameters (the owner of a channel, say).
    may_start: Callable[[Any, Mapping[str, Any]], bool] = anyone_allowed
    # The parameter naming the channel the job works on (one active job per channel), if any.
    channel_param: str | None = None

    def channel_id(self, params: Mapping[str, Any]) -> str:
        if self.channel_param is None:
            return ""
        return str(params.get(self.channel_param) or "")


_kinds: dict[str, JobKind] = {}
_lock = threading.Lock()


def register_kind(kind: JobKind, *, replace: bool = False) -> JobKind:
    with _lock:
        if kind.name in _kinds and not replace:
            raise ValueError(f"job kind {kind.name!r} is already registered")
        _kinds[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    with _lock:
        _kinds.pop(name, None)


def get_kind(name: object) -> JobKind:
    kind = _kinds.get(name) if isinstance(name, str) else None
    if kind is None:
        raise UnknownJobKindError(name, list(_kinds))
    return kind


def kind_names() -> list[str]:
    return sorted(_kinds)
