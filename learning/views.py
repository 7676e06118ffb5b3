"""The public verification page: `GET /certificates/verify/<code>/` (no sign-in).

HTML for people who scanned the QR code; JSON for scripts (`Accept: application/json` or
`?format=json`). An unknown code answers 404 with a clear "not genuine", never an error page.
Codes are read forgivingly (case, spaces and dashes as people type them) and then checked with
`re.fullmatch` against the code alphabet before any query.

    GET /certificates/verify/K7QXM2PA9RTBWN4C/?format=json -> {"genuine": true, ...}
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from learning.completion import CODE_ALPHABET, CODE_LENGTH
from learning.models import Certificate
from learning.serializers import verification_json

_CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


def normalize_code(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw).upper()[:64]


def _wants_json(request: HttpRequest) -> bool:
    if request.GET.get("format") == "json":
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


@require_safe
def verify_certificate(request: HttpRequest, code: str) -> HttpResponse:
    normalized = normalize_code(code)
    certificate = (Certificate.objects.filter(code=normalized).first()
                   if _CODE_RE.fullmatch(normalized) else None)
    result = verification_json(certificate, normalized)
    status = 200 if certificate is not None else 404
    if _wants_json(request):
        return JsonResponse(result, status=status)
    response = render(request, "learning/verify.html", {"result": result}, status=status)
    response["Cache-Control"] = "no-store"
    return response
