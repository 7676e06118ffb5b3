"""Certificates: render once into the private store, serve the same bytes forever, retry what
failed or was lost.

The private store is `CONTENT_DIR/private/certificates/` (mode 0700): beside, never inside, the
public store `CONTENT_DIR/storage/` that `/content/storage/` serves, so no URL reaches it, and
the file-store collector, `verifystorage` and the temp purge never look there. A PDF is named
`<certificate id>-<md5>.pdf` and written crash-safely (temp file in the same folder, fsync,
rename, fsync of the folder); the row becomes `ready` with that checksum only if it was not
ready already, so two renders at once (a retry racing a slow task) cannot make the row name
one file while another is served: the loser deletes its own file. An hourly sweep
(`sweep_certificate_store`) deletes what no ready certificate names, such as the PDFs of
certificates deleted with their learner's account.

Not a reference source of the file-store collector: the PDFs are not in the public store, and
a certificate relies on no file there (its text and QR code are inside the PDF), so a source
would return nothing; this module's sweep is the private store's collector instead.

The verification URL printed and encoded in the QR code is `<base>/certificates/verify/<code>/`
where `<base>` is the address the learner was using when the course was completed (it is known
to reach this server from the classroom); a render without one (a retry by the periodic task)
uses `CERTIFICATE_VERIFY_BASE_URL` if set, else `http://<host name>:8000/`.

    render_certificate(certificate_id, "http://10.0.0.2:8000/")   # the task calls this
    data = read_certificate_pdf(certificate)                       # the download
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import socket
import tempfile
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from learning.certificate_pdf import CertificateText, render_certificate_pdf
from learning.errors import CertificateNotReadyError
from learning.models import Certificate

logger = logging.getLogger(__name__)

_CERTIFICATE_ID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CHECKSUM_RE = re.compile(r"[0-9a-f]{32}")
_BASE_URL_RE = re.compile(r"https?://[A-Za-z0-9.:\[\]-]+/?")
# A queued render older than this is taken as lost (Huey delivers at most once).
LOST_AFTER = dt.timedelta(minutes=10)
SWEEP_GRACE = dt.timedelta(hours=1)
_STORED_NAME_RE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[0-9a-f]{32}\.pdf")


def private_certificates_root() -> Path:
    return Path(settings.CONTENT_DIR) / "private" / "certificates"


def certificate_pdf_path(certificate_id: str, checksum: str) -> Path:
    """The stored PDF's path, from validated parts only (never from request text)."""
    if not _CERTIFICATE_ID_RE.fullmatch(certificate_id) or not _CHECKSUM_RE.fullmatch(checksum):
        raise ValueError("not a certificate id and checksum")
    return private_certificates_root() / f"{certificate_id}-{checksum}.pdf"


def store_certificate_pdf(certificate_id: str, data: bytes) -> tuple[str, int, Path]:
    checksum = hashlib.md5(data).hexdigest()
    final_path = certificate_pdf_path(certificate_id, checksum)
    final_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(dir=final_path.parent, prefix=".part-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, final_path)
    finally:
        Path(temp_name).unlink(missing_ok=True)
    _fsync_directory(final_path.parent)
    return checksum, len(data), final_path


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def verify_url(base_url: str, code: str) -> str:
    base = base_url if _BASE_URL_RE.fullmatch(base_url or "") else default_base_url()
    return f"{base.rstrip('/')}/certificates/verify/{code}/"


def default_base_url() -> str:
    configured = str(getattr(settings, "CERTIFICATE_VERIFY_BASE_URL", "") or "")
    if _BASE_URL_RE.fullmatch(configured):
        return configured
    return f"http://{socket.gethostname()}:8000/"


def render_certificate(certificate_id: str, verify_base_url: str = "") -> str:
    """Render and store the PDF of a pending (or failed) certificate; the state it ends in.

    A ready certificate is left alone: its bytes never change.
    """
    certificate = Certificate.objects.filter(id=certificate_id).first()
    if certificate is None:
        return "missing"
    if certificate.state == Certificate.State.READY:
        return certificate.state
    text = CertificateText(
        learner_name=certificate.learner_name, course_name=certificate.course_name,
        version=certificate.version, version_label=certificate.version_label,
        issued_on=timezone.localdate(certificate.issued_at), server_name=certificate.server_name,
        code=certificate.code,
        verify_url=certificate.verify_url or verify_url(verify_base_url, certificate.code),
        language=certificate.language)
    try:
        checksum, size, path = store_certificate_pdf(str(certificate.id),
                                                     render_certificate_pdf(text))
    except Exception as error:  # any failure is recorded on the row and retried later
        logger.exception("certificate %s could not be rendered", certificate_id)
        Certificate.objects.filter(id=certificate.id).exclude(
            state=Certificate.State.READY).update(
                state=Certificate.State.FAILED,
                error=f"{error.__class__.__name__}: {error}"[:2000])
        return Certificate.State.FAILED
    won = Certificate.objects.filter(id=certificate.id).exclude(
        state=Certificate.State.READY).update(state=Certificate.State.READY, checksum=checksum,
                                              size=size, error="")
    if not won:
        # Another render made it ready first; ours is not the one the row names.
        current = Certificate.objects.get(id=certificate.id)
        if current.checksum != checksum:
            path.unlink(missing_ok=True)
    return Certificate.State.READY


def read_certificate_pdf(certificate: Certificate) -> bytes:
    """The stored bytes; CertificateNotReadyError (409) while pending or failed.

    A ready certificate whose file is gone (a disk restored without the private folder) is
    queued again, and the learner told to come back.
    """
    if certificate.state == Certificate.State.PENDING:
        raise CertificateNotReadyError(gettext("Your certificate is being prepared; try again "
                                               "in a minute."))
    if certificate.state == Certificate.State.FAILED:
        raise CertificateNotReadyError(gettext(
            "Your certificate could not be made yet; it is retried automatically. If this "
            "lasts, tell an admin."))
    path = certificate_pdf_path(str(certificate.id), certificate.checksum)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    if len(data) == certificate.size and hashlib.md5(data).hexdigest() == certificate.checksum:
        return data
    logger.error("certificate %s: stored PDF missing or damaged; rendering again", certificate.id)
    Certificate.objects.filter(id=certificate.id).update(
        state=Certificate.State.PENDING, error="stored PDF missing or damaged")
    from learning.tasks import render_certificate_task

    render_certificate_task(str(certificate.id), "")
    raise CertificateNotReadyError(gettext("Your certificate is being prepared again; try "
                                           "again in a minute."))


def sweep_certificate_store(now: dt.datetime | None = None,
                            grace: dt.timedelta = SWEEP_GRACE) -> list[str]:
    """Delete the private store's files that no ready certificate names: the loser of two
    renders at once, a render cut off before its row was updated, and the PDFs of certificates
    deleted with their learner's account (a deleted learner's name must not stay on disk).

    Files younger than `grace` are spared: a render renames its file into place before it
    marks the row ready. Names that are not ours are left alone and logged.
    """
    root = private_certificates_root()
    if not root.is_dir():
        return []
    cutoff = ((now or timezone.now()) - grace).timestamp()
    kept = {f"{certificate_id}-{checksum}.pdf" for certificate_id, checksum in
            Certificate.objects.filter(state=Certificate.State.READY)
            .values_list("id", "checksum")}
    deleted = []
    for entry in os.scandir(root):
        if not entry.is_file(follow_symlinks=False) or entry.name in kept:
            continue
        ours = _STORED_NAME_RE.fullmatch(entry.name) or entry.name.startswith(".part-")
        if not ours:
            logger.warning("private certificate store: %s is not ours; left alone", entry.name)
            continue
        if entry.stat(follow_symlinks=False).st_mtime < cutoff:
            Path(entry.path).unlink(missing_ok=True)
            deleted.append(entry.name)
    return deleted


def retry_certificates(now: dt.datetime | None = None) -> list[str]:
    """Queue again every failed certificate and every pending one whose task looks lost."""
    from learning.tasks import render_certificate_task

    cutoff = (now or timezone.now()) - LOST_AFTER
    stuck = Certificate.objects.filter(
        Q(state=Certificate.State.FAILED)
        | Q(state=Certificate.State.PENDING, issued_at__lt=cutoff))
    queued = [str(certificate_id) for certificate_id in stuck.values_list("id", flat=True)]
    for certificate_id in queued:
        render_certificate_task(certificate_id, "")
    return queued
