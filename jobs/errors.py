"""Errors of background jobs. `http_status` is what the API answers (INTERFACE.md)."""

from __future__ import annotations

from django.utils.translation import gettext


class JobError(Exception):
    http_status = 500
    exit_code = 1


class UnknownJobKindError(JobError):
    http_status = 400
    exit_code = 2

    def __init__(self, kind: object, known: list[str]) -> None:
        super().__init__(gettext("unknown task kind %(kind)r; use one of: %(known)s")
                         % {"kind": kind, "known": ", ".join(sorted(known))})


class InvalidJobParamsError(JobError):
    """A parameter of a new job is missing or wrong; `field` names it for the API."""

    http_status = 400
    exit_code = 2

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class JobPermissionError(JobError):
    http_status = 403

    def __init__(self, message: str = "") -> None:
        super().__init__(message or gettext("Only an admin of this server may start this task."))


class JobNotFoundError(JobError):
    http_status = 404
    exit_code = 3

    def __init__(self, job_id: object) -> None:
        super().__init__(gettext("no task %(job_id)s on this server; GET /api/tasks/ lists recent "
                                 "ones") % {"job_id": job_id})


class JobConflictError(JobError):
    http_status = 409
    exit_code = 7


class JobCancelledError(BaseException):
    """Raised inside `update()` of a job's progress reporter once a cancel was requested.

    A BaseException, like KeyboardInterrupt: a service's `except Exception` (turning an OSError
    into a domain error, skipping a bad file) must not swallow or relabel a cancel; its
    `finally` and `except BaseException: clean up; raise` blocks still run, so it stops leaving
    the state a re-run resumes from.
    """

    # Read by services that must not import jobs (channels.transfer.imports labels the stop).
    is_cancellation = True

    def __init__(self, job_id: object) -> None:
        super().__init__(gettext("task %(job_id)s was cancelled") % {"job_id": job_id})
        self.job_id = job_id
