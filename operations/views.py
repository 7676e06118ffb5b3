"""`GET /healthz/`: the health checks as JSON, 200 when healthy, 503 when a check failed.

No authentication: a monitor or a load balancer asks it, and it names no user data.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from operations.health import run_health_checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = run_health_checks()
    return JsonResponse(report.as_dict(), status=200 if report.healthy else 503)
