"""The certificate PDF: a Django template rendered by xhtml2pdf, with nothing fetched from
outside.

Two locks on what the renderer may read, because the learner's and the course's names are in
the page (escaped by the template, but a bug there must not become a file or network read):
- `link_callback` resolves only our own static files (by the staticfiles finders, names of
  plain path segments) and the QR code's inline `data:image/png` URI, and refuses everything
  else by raising: a URL, an absolute or relative path, another data type.
- xhtml2pdf's `ResourceAccessPolicy` denies the network outright and confines local reads to
  the project's own folders, which also covers the reads that bypass `link_callback` (fonts).
Fonts are the PDF standard ones (Helvetica): nothing to load.

    pdf_bytes = render_certificate_pdf(CertificateText(
        learner_name="Ada", course_name="Fractions", version=2, version_label="spring",
        issued_on=date(2026, 3, 1), server_name="Room 4", code="K7Q...",
        verify_url="http://10.0.0.2:8000/certificates/verify/K7Q.../"))
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import qrcode
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from learning.errors import CertificateRenderError

TEMPLATE = "learning/certificate.html"
QR_DATA_URI_PREFIX = "data:image/png;base64,"
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


def _policy() -> ResourceAccessPolicy:
    return ResourceAccessPolicy(allow_remote=False, base_dir=_project_root(),
                                max_render_seconds=60)


def render_certificate_html(text: CertificateText) -> str:
    qr_png = qr_code_png(text.verify_url)
    context = {**asdict(text),
               "qr_data_uri": QR_DATA_URI_PREFIX + base64.b64encode(qr_png).decode("ascii")}
    return render_to_string(TEMPLATE, context)


def render_certificate_pdf(text: CertificateText) -> bytes:
    html = render_certificate_html(text)
    output = io.BytesIO()
    try:
        status = pisa.CreatePDF(html, dest=output, encoding="utf-8",
                                link_callback=link_callback, resource_policy=_policy())
    except CertificateRenderError:
        raise
    except Exception as error:  # xhtml2pdf raises anything from its parsers and reportlab
        raise CertificateRenderError(f"xhtml2pdf failed: {error.__class__.__name__}: "
                                     f"{error}") from error
    if status.err:
        raise CertificateRenderError(f"xhtml2pdf reported {status.err} error(s) rendering "
                                     "the certificate")
    data = output.getvalue()
    if not data.startswith(b"%PDF-"):
        raise CertificateRenderError("xhtml2pdf produced no PDF")
    return data
