"""Test-only job kinds and helpers for running jobs in Huey's immediate mode.

`steps` reports progress `steps` times (optionally sleeping, failing, or cancelling itself
part-way, as another request would); `tasks` the jobs it was given, for checks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from jobs.errors import InvalidJobParamsError
from jobs.kinds import JobContext, JobKind, register_kind, unregister_kind
from jobs.models import Job

STEPS_KIND = "test-steps"


class StepsFailedError(Exception):
    exit_code = 4


def clean_steps(raw: Mapping[str, Any]) -> dict[str, Any]:
    steps = raw.get("steps", 3)
    if not isinstance(steps, int) or isinstance(steps, bool) or not 0 <= steps <= 1000:
        raise InvalidJobParamsError("steps", "a whole number from 0 to 1000")
    return {"steps": steps, "sleep": float(raw.get("sleep", 0)),
            "fail_at": raw.get("fail_at"), "cancel_at": raw.get("cancel_at"),
            "crash_at": raw.get("crash_at")}


def run_steps(context: JobContext) -> dict[str, Any]:
    params = context.params
    for step in range(params["steps"]):
        if step == params["cancel_at"]:
            # What `DELETE /api/tasks/<id>/` does from another request.
            Job.objects.filter(id=context.job_id).update(cancel_requested=True)
        if step == params["fail_at"]:
            raise StepsFailedError(f"step {step} failed:\nthe drive was removed")
        if step == params["crash_at"]:
            raise KeyError("missing")
        context.progress.update("steps", step, params["steps"])
        if params["sleep"]:
            time.sleep(params["sleep"])
    context.progress.update("steps", params["steps"], params["steps"])
    return {"steps": params["steps"]}


@pytest.fixture
def steps_kind() -> Iterator[JobKind]:
    kind = register_kind(JobKind(name=STEPS_KIND, title="Count steps", clean=clean_steps,
                                 handler=run_steps, admin_only=False), replace=True)
    yield kind
    unregister_kind(STEPS_KIND)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the enqueue) when the block ends, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def every_progress_written(settings) -> None:
    """Write every update, so tests can check exact numbers (the default throttles)."""
    settings.JOBS = {"PROGRESS_WRITE_SECONDS": 0}
