"""The certificate PDF: a Django template rendered in the learner's language, turned into PDF
by xhtml2pdf in a process of its own (learning/certificate_worker.py), with nothing fetched
from outside.

The page is rendered here (templates, translations: English, French, Arabic right-to-left)
and only the HTML goes to the worker, which `CERTIFICATE_RENDER_TIMEOUT_SECONDS` bounds: past
it the worker is killed and CertificateRenderError says so; a worker that crashes says how.
Nothing is written here: the caller stores the bytes it gets, so a failed render leaves no file.

Locks on what the renderer may read, because the learner's and the course's names are in the
page (escaped by the template, but a bug there must not become a file or network read):
- the worker's link callback resolves only the QR code's inline `data:image/png` URI and the
  fonts named in FONT_ASSETS, which `link_callback` below resolves first (by the staticfiles
  finders, names of plain path segments, inside the project); everything else is refused;
- xhtml2pdf's `ResourceAccessPolicy` denies the network outright and confines local reads to
  the project's own folders.
Fonts: DejaVu Sans (vendored in learning/static/learning/fonts/ with its licence), which has
Latin and Arabic glyphs; xhtml2pdf shapes Arabic and lays out `dir="rtl"` itself.

    pdf_bytes = render_certificate_pdf(CertificateText(
        learner_name="Ada", course_name="Fractions", version=2, version_label="spring",
        issued_on=date(2026, 3, 1), server_name="Room 4", code="K7Q...",
        verify_url="http://10.0.0.2:8000/certificates/verify/K7Q.../", language="fr"))
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import qrcode
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation

from learning import certificate_worker
from learning.errors import CertificateRenderError

TEMPLATE = "learning/certificate.html"
QR_DATA_URI_PREFIX = certificate_worker.QR_DATA_URI_PREFIX
DEFAULT_RENDER_TIMEOUT_SECONDS = 60
# The static files the template may use (by name under STATIC_URL), and nothing else.
FONT_ASSETS = {"font_regular": "learning/fonts/DejaVuSans.ttf",
               "font_bold": "learning/fonts/DejaVuSans-Bold.ttf"}
_STATIC_NAME_RE = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\.(png|jpg|jpeg|gif|css|ttf)")


@dataclass(frozen=True)
class CertificateText:
    learner_name: str
    course_name: str
    version: int
    version_label: str
    issued_on: dt.date
    server_name: str
    code: str
    verify_url: str
    # The language the learner used when the course was completed ("en", "fr", "ar").
    language: str = "en"


def qr_code_png(text: str) -> bytes:
    """A QR code of `text` as PNG bytes (Pillow, which reportlab needs anyway)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8,
                         border=2)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def link_callback(uri: str, rel: str | None = None) -> str:
    """Where xhtml2pdf may read `uri` from: our QR data URI or one of our static files."""
    if uri.startswith(QR_DATA_URI_PREFIX):
        return uri
    static_url = str(settings.STATIC_URL)
    if uri.startswith(static_url):
        name = uri[len(static_url):]
        if _STATIC_NAME_RE.fullmatch(name):
            found = finders.find(name)
            if isinstance(found, str) and _inside_project(Path(found)):
                return found
    raise CertificateRenderError(f"the certificate template asked for {uri[:80]!r}; only "
                                 "our static files may be used")


def _project_root() -> Path:
    return Path(settings.BASE_DIR).resolve()


def _inside_project(path: Path) -> bool:
    return path.resolve().is_relative_to(_project_root())


def render_timeout_seconds() -> float:
    return float(getattr(settings, "CERTIFICATE_RENDER_TIMEOUT_SECONDS",
                         DEFAULT_RENDER_TIMEOUT_SECONDS))


def certificate_language(language: str | None) -> str:
    """One of the interface's languages ("fr-ca" -> "fr"); English for anything else."""
    codes = [code for code, _name in settings.LANGUAGES]
    base = (language or "").lower().split("-")[0]
    return base if base in codes else "en"


def render_certificate_html(text: CertificateText) -> str:
    qr_png = qr_code_png(text.verify_url)
    static_url = str(settings.STATIC_URL)
    context = {**asdict(text),
               "qr_data_uri": QR_DATA_URI_PREFIX + base64.b64encode(qr_png).decode("ascii"),
               **{key: static_url + name for key, name in FONT_ASSETS.items()},
               # A left-to-right mark after the URL: in a right-to-left line its final "/"
               # would otherwise be drawn in front of it.
               "verify_link": text.verify_url + "\u200e"}
    with translation.override(certificate_language(text.language)):
        context["direction"] = "rtl" if translation.get_language_bidi() else "ltr"
        context["language"] = translation.get_language()
        return render_to_string(TEMPLATE, context)


def render_certificate_pdf(text: CertificateText) -> bytes:
    """The PDF bytes; CertificateRenderError with the reason if the worker failed, crashed or
    ran past CERTIFICATE_RENDER_TIMEOUT_SECONDS (then it was killed)."""
    timeout = render_timeout_seconds()
    static_url = str(settings.STATIC_URL)
    request = {"html": render_certificate_html(text),
               "assets": {static_url + name: link_callback(static_url + name)
                          for name in FONT_ASSETS.values()},
               "base_dir": str(_project_root()), "max_seconds": max(1, int(timeout))}
    try:
        # run() kills the worker when the timeout expires (or on Ctrl-C) and reaps it.
        completed = subprocess.run(worker_command(), input=json.dumps(request).encode(),
                                   capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CertificateRenderError(f"the certificate took longer than {timeout:g} s to "
                                     "render and was stopped (setting "
                                     "CERTIFICATE_RENDER_TIMEOUT_SECONDS)") from None
    except OSError as error:
        raise CertificateRenderError(f"cannot start the certificate renderer: {error}") from None
    reason = _last_line(completed.stderr)
    if completed.returncode < 0:
        name = signal.Signals(-completed.returncode).name
        raise CertificateRenderError(f"the certificate renderer crashed ({name})"
                                     + (f": {reason}" if reason else ""))
    if completed.returncode != 0:
        raise CertificateRenderError(reason or "the certificate renderer failed with exit "
                                     f"status {completed.returncode}")
    if not completed.stdout.startswith(b"%PDF-"):
        raise CertificateRenderError("the certificate renderer produced no PDF")
    return completed.stdout


def worker_command() -> list[str]:
    """`-I`: the worker needs no project module, and ignores PYTHON* variables."""
    return [sys.executable, "-I", str(Path(certificate_worker.__file__).resolve())]


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", errors="replace").splitlines()
             if line.strip()]
    return lines[-1][:500] if lines else ""
