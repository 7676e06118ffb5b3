"""JSON shapes of the learning API. Plain functions that only translate (no queries, no
side effects), like `content.serializers`.

    body = attempt_json(outcome.attempt)
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from learning.models import Attempt, Certificate, NodeProgress


def node_progress_json(row: NodeProgress) -> dict[str, Any]:
    return {"channel_id": row.channel_id, "node_id": row.node_id, "content_id": row.content_id,
            "kind": row.kind, "progress": row.progress, "completed": row.completed,
            "completed_at": row.completed_at, "updated_at": row.updated_at}


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    """The learner's own attempt: what they chose and which questions were right, never which
    choices were right."""
    return {"id": str(attempt.id), "channel_id": attempt.channel_id,
            "node_id": attempt.node_id, "content_id": attempt.content_id,
            "version": attempt.version, "answers": attempt.answers,
            "results": attempt.results, "score": attempt.score, "passed": attempt.passed,
            "started_at": attempt.started_at, "submitted_at": attempt.submitted_at}


def certificate_json(certificate: Certificate) -> dict[str, Any]:
    return {"id": str(certificate.id), "channel_id": certificate.channel_id,
            "course_name": certificate.course_name, "version": certificate.version,
            "version_label": certificate.version_label,
            "learner_name": certificate.learner_name,
            "server_name": certificate.server_name, "issued_at": certificate.issued_at,
            "code": certificate.code, "state": certificate.state,
            "pdf_url": f"/api/certificates/{certificate.id}/pdf/",
            "verify_url": f"/certificates/verify/{certificate.code}/"}


def verification_json(certificate: Certificate | None, code: str) -> dict[str, Any]:
    """What the public verification page says: only what the certificate itself shows."""
    if certificate is None:
        return {"genuine": False, "code": code,
                "detail": gettext("No certificate with this code was issued by this server. "
                                  "Check the code (letters and digits, no 0, 1, I, L or O).")}
    return {"genuine": True, "code": certificate.code,
            "learner_name": certificate.learner_name, "course_name": certificate.course_name,
            "version": certificate.version, "version_label": certificate.version_label,
            "issued_at": certificate.issued_at, "server_name": certificate.server_name}
