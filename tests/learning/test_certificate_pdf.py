"""The certificate renderer reads nothing but our own files: no URL, no arbitrary path."""

from __future__ import annotations

import datetime as dt
import io
import socket
import unicodedata

import pypdf
import pytest
from django.template import engines

from learning import certificate_pdf
from learning.certificate_pdf import (
    CertificateText,
    link_callback,
    qr_code_png,
    render_certificate_pdf,
)
from learning.certificates import verify_url
from learning.errors import CertificateRenderError


def text(**overrides) -> CertificateText:
    values = {"learner_name": "Ada", "course_name": "Fractions", "version": 3,
              "version_label": "", "issued_on": dt.date(2026, 3, 1), "server_name": "Room 4",
              "code": "ABCDEFGHJKMNPQRS",
              "verify_url": "http://10.0.0.2:8000/certificates/verify/ABCDEFGHJKMNPQRS/"}
    return CertificateText(**{**values, **overrides})


def pdf_text(pdf: bytes) -> str:
    """The page's text with line breaks as spaces (a long name wraps), Arabic presentation
    forms (what the shaper draws) back to letters."""
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    return " ".join(unicodedata.normalize("NFKC", page).split())


@pytest.mark.parametrize("uri", [
    "http://169.254.169.254/latest/meta-data/", "https://example.org/logo.png",
    "file:///etc/passwd", "/etc/passwd", "../../settings.py", "/static/../../etc/passwd",
    "/static/frontend/../../kolibri_like/settings.py", "data:text/html;base64,PGI+",
    "data:image/svg+xml,%3Csvg%3E", "/static/nothing-here.png",
])
def test_the_link_callback_refuses_anything_but_our_static_files(uri):
    with pytest.raises(CertificateRenderError):
        link_callback(uri)


def test_the_link_callback_resolves_our_static_files_and_the_qr_code(settings):
    assert link_callback("data:image/png;base64,iVBORw0KGgo=").startswith("data:image/png")
    found = link_callback(f"{settings.STATIC_URL}frontend/site.css")
    assert found.endswith("frontend/static/frontend/site.css")


def test_a_template_asking_for_a_url_fails_instead_of_fetching(monkeypatch):
    hostile = engines["django"].from_string(
        '<html><body><p>{{ learner_name }}</p><img src="http://127.0.0.1:9/x.png">'
        "</body></html>")
    monkeypatch.setattr(certificate_pdf, "render_to_string",
                        lambda name, context: hostile.render(context))
    with pytest.raises(CertificateRenderError, match="127.0.0.1"):
        render_certificate_pdf(text())


def test_names_are_printed_as_text_never_as_markup():
    name = '<img src="/etc/passwd"> Ada & <b>Bob</b>'
    pdf = render_certificate_pdf(text(learner_name=name))
    assert name in pdf_text(pdf)


def test_the_qr_code_is_a_png_of_the_verify_url():
    png = qr_code_png("http://10.0.0.2:8000/certificates/verify/ABCDEFGHJKMNPQRS/")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # Larger data makes a larger symbol: the text really is encoded, not a fixed picture.
    assert len(qr_code_png("x" * 300)) != len(png)


def test_the_verify_url_uses_the_address_the_learner_used(settings):
    assert verify_url("http://10.0.0.2:8000/", "ABC") == (
        "http://10.0.0.2:8000/certificates/verify/ABC/")
    settings.CERTIFICATE_VERIFY_BASE_URL = "http://school.lan/"
    # Missing or odd bases fall back to the configured one, never into the PDF as given.
    assert verify_url("", "ABC") == "http://school.lan/certificates/verify/ABC/"
    assert verify_url("javascript:alert(1)//", "ABC") == (
        "http://school.lan/certificates/verify/ABC/")


def test_the_certificate_is_in_the_learners_language():
    french = pdf_text(render_certificate_pdf(text(language="fr", version_label="printemps")))
    assert "Certificat de réussite" in french and "a terminé le cours" in french
    assert "version 3 (printemps), le 1 mars 2026" in french
    assert "Code de vérification" in french and "ou scannez le code." in french
    assert "Certificate of completion" not in french and "has completed" not in french

    english = pdf_text(render_certificate_pdf(text(language="de")))  # not one of ours
    assert "Certificate of completion" in english and "version 3, on 1 March 2026" in english


def test_the_arabic_certificate_is_right_to_left_with_arabic_glyphs():
    html = certificate_pdf.render_certificate_html(text(language="ar"))
    assert '<html lang="ar" dir="rtl">' in html
    arabic = pdf_text(render_certificate_pdf(text(language="ar", learner_name="ليلى")))
    # Letters only come back from the PDF if the embedded font has their glyphs.
    for words in ("شهادة إتمام", "تشهد هذه الوثيقة بأن", "أكمل الدورة", "ليلى", "رمز التحقق"):
        assert words in arabic
    assert "Certificate of completion" not in arabic


def test_the_fonts_are_our_own_static_files():
    for name in certificate_pdf.FONT_ASSETS.values():
        found = link_callback(f"/static/{name}")
        assert found.endswith(f"learning/static/{name}")


def test_a_course_title_with_a_stylesheet_link_is_printed_and_fetches_nothing():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        title = (f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">'
                 f'<img src="http://127.0.0.1:{port}/x.png"> Fractions')
        pdf = render_certificate_pdf(text(course_name=title))
        with pytest.raises(BlockingIOError):  # nobody connected while it rendered
            listener.accept()
    assert title in pdf_text(pdf)
