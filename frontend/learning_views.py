"""A signed-in learner's own pages: "My courses" (progress in every course, across channels)
and "My certificates" (each with its download and verification links).

Both read through the learning app (the same reads as `GET /api/progress/` and
`GET /api/certificates/`); guests are sent to sign in, because progress and certificates belong
to an account.

    GET /learn/                 -> frontend/learning/courses.html
    GET /learn/certificates/    -> frontend/learning/certificates.html
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from learning.models import Certificate
from learning.selectors import course_summaries, user_certificates


@dataclass(frozen=True)
class CourseRow:
    channel_id: str
    name: str
    total_resources: int
    completed_resources: int
    percent: int
    tests_total: int
    tests_passed: int
    completed: bool
    certificate_id: str | None
    # False when the course left this server after the learner started it: no link to it.
    installed: bool


@dataclass(frozen=True)
class CertificateRow:
    id: str
    course_name: str
    version: int
    version_label: str
    issued_at: datetime
    code: str
    state: str
    pdf_url: str
    verify_url: str


def course_row(summary: dict[str, Any]) -> CourseRow:
    progress = min(1.0, max(0.0, float(summary.get("progress") or 0.0)))
    return CourseRow(
        channel_id=summary["channel_id"],
        name=summary.get("name") or "A course no longer on this server",
        total_resources=summary.get("total_resources") or 0,
        completed_resources=summary.get("completed_resources") or 0,
        percent=round(progress * 100),
        tests_total=summary.get("tests_total") or 0,
        tests_passed=summary.get("tests_passed") or 0,
        completed=bool(summary.get("completed")),
        certificate_id=summary.get("certificate_id"),
        installed=bool(summary.get("available")))


def certificate_row(certificate: Certificate) -> CertificateRow:
    return CertificateRow(
        id=str(certificate.id), course_name=certificate.course_name,
        version=certificate.version, version_label=certificate.version_label,
        issued_at=certificate.issued_at, code=certificate.code, state=certificate.state,
        pdf_url=reverse("learning-certificate-pdf", args=[certificate.id]),
        verify_url=reverse("learning-certificate-verify", args=[certificate.code]))


def course_rows(summaries: Iterable[dict[str, Any]]) -> list[CourseRow]:
    # Courses in progress first, then completed ones; by name within each.
    rows = [course_row(summary) for summary in summaries]
    return sorted(rows, key=lambda row: (row.completed, row.name.casefold()))


@require_safe
@login_required
def my_courses(request: HttpRequest) -> HttpResponse:
    rows = course_rows(course_summaries(request.user))
    return render(request, "frontend/learning/courses.html", {"courses": rows})


@require_safe
@login_required
def my_certificates(request: HttpRequest) -> HttpResponse:
    rows = [certificate_row(item) for item in user_certificates(request.user)]
    return render(request, "frontend/learning/certificates.html", {"certificates": rows})
