"""Errors of authoring, each with the HTTP status the API answers and a sentence a person can
act on (INTERFACE.md: `{"detail": ...}`)."""

from __future__ import annotations

from django.utils.translation import gettext


class AuthoringError(Exception):
    http_status = 400
    exit_code = 2


class DraftNotFoundError(AuthoringError):
    """Unknown, malformed, or someone else's draft (private objects of others answer 404)."""

    http_status = 404
    exit_code = 3

    def __init__(self, message: str = "") -> None:
        super().__init__(message or gettext("No such draft. Your drafts are listed at /api/drafts/."))


class DraftFileNotFoundError(AuthoringError):
    http_status = 404
    exit_code = 3

    def __init__(self, message: str = "") -> None:
        super().__init__(message or gettext("No such file in this draft."))


class DraftNotEditableError(AuthoringError):
    """The draft is being published or was published: it cannot change any more."""

    http_status = 409
    exit_code = 7


class InvalidDraftError(AuthoringError):
    """A step's data is invalid; `errors` maps each field to what is wrong with it."""

    http_status = 400
    exit_code = 4

    def __init__(self, errors: dict[str, object]) -> None:
        self.errors = errors
        field, problem = next(iter(errors.items()), ("draft", "is invalid"))
        # Nested problems (test sets) are keyed by a dotted path: name the first one.
        while isinstance(problem, dict) and problem:
            path, problem = next(iter(problem.items()))
            field = f"{field} {path}".strip()
        super().__init__(f"{field}: {problem}")


class UploadRejectedError(AuthoringError):
    """An upload refused before or after its bytes arrived (too large, wrong type, mismatch)."""

    http_status = 415
    exit_code = 4


class UnsafeArchiveError(UploadRejectedError):
    """An HTML5 app's zip that fails the archive checks; `problems` says each in plain words."""

    http_status = 400

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(gettext(
            "This HTML5 app (zip) cannot be used: %(problems)s. Make the zip again with "
            "index.html at its top and relative file names only, then upload it.")
            % {"problems": "; ".join(problems)})


class UploadTooLargeError(UploadRejectedError):
    http_status = 413


class UploadOffsetError(AuthoringError):
    """A tus PATCH that does not continue where the upload is (the client asks HEAD again)."""

    http_status = 409
    exit_code = 4


class PublishConflictError(AuthoringError):
    """The draft is already being published or was published; no new version was made."""

    http_status = 409
    exit_code = 7


class UploadDiskFullError(AuthoringError):
    """The disk filled up while bytes arrived: what arrived is kept, the client resumes."""

    http_status = 507
    exit_code = 5


class UploadWriteError(AuthoringError):
    """The disk failed (not full) while bytes arrived: what was confirmed is kept."""

    http_status = 500
    exit_code = 6


class UploadBusyError(AuthoringError):
    """Another request is writing this upload right now (tus clients retry a 423)."""

    http_status = 423
    exit_code = 7


class UploadInterruptedError(AuthoringError):
    """The body ended before its Content-Length: what arrived is kept, the client resumes."""

    http_status = 400
    exit_code = 6


class EmptyUploadError(UploadRejectedError):
    http_status = 400
