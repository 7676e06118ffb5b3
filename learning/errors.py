"""Errors of the learning services, each with the HTTP status the API answers with.

Services raise these with a sentence that tells the learner (or the script) what to do; the API
turns them into `{"detail": "<sentence>"}` with `http_status` (see `learning.api`).

    raise AttemptLimitError("You have used all 3 attempts at this test.")
"""

from __future__ import annotations


class LearningError(Exception):
    http_status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidLearningInputError(LearningError):
    http_status = 400


class LearningNotFoundError(LearningError):
    http_status = 404


class AttemptLimitError(LearningError):
    http_status = 409


class NotGradableError(LearningError):
    """A test with no question this server can grade (every item uses another widget)."""

    http_status = 409


class ExerciseFileMissingError(LearningError):
    """The test's `.perseus` file is not on this server (content not imported yet)."""

    http_status = 409


class CertificateNotReadyError(LearningError):
    http_status = 409


class CertificateRenderError(Exception):
    """Rendering a certificate failed; the reason is stored on the certificate."""
