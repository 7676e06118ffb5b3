"""Huey tasks of learning: shims over learning.certificates (they take ids, never instances).

    render_certificate_task(str(certificate.id), "http://10.0.0.2:8000/")   # after the commit
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learning.certificates import (
    render_certificate,
    retry_certificates,
    sweep_certificate_store,
)


@db_task()
def render_certificate_task(certificate_id: str, verify_base_url: str = "") -> str:
    return str(render_certificate(certificate_id, verify_base_url))


@db_periodic_task(crontab(minute="*/10"))
def retry_certificates_task() -> list[str]:
    """Failed renders, and queued ones a killed worker lost, are queued again."""
    return retry_certificates()


@db_periodic_task(crontab(minute="23"))
def sweep_certificate_store_task() -> list[str]:
    """Hourly: PDFs no certificate names any more (see learning.certificates)."""
    return sweep_certificate_store()
