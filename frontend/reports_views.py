"""Authors' progress reports: `/author/courses/<channel_id>/progress/` (a page) and
`.../progress.csv` (the same table as a download). Admins see any course, an author the
courses they own; anyone else gets 404, as for any private object (INTERFACE.md).

The URL keyword is `pk`, not `channel_id`: learning/reports.py opens the channel's database
itself (one query), so the routing middleware has nothing to do here.
"""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.utils.translation import gettext_lazy

from learning.reports import course_report, report_csv_rows, reportable_channel

NOT_FOUND = gettext_lazy("No such course of yours on this server.")


@require_safe
@login_required
def course_progress(request: HttpRequest, pk: str) -> HttpResponse:
    channel = reportable_channel(request.user, pk)
    if channel is None:
        raise Http404(NOT_FOUND)
    return render(request, "frontend/reports/course_progress.html",
                  {"report": course_report(channel)})


@require_safe
@login_required
def course_progress_csv(request: HttpRequest, pk: str) -> HttpResponse:
    channel = reportable_channel(request.user, pk)
    if channel is None:
        raise Http404(NOT_FOUND)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="progress-{channel.id}.csv"'
    response["Cache-Control"] = "private, no-store"
    # A byte-order mark, so spreadsheets read the names as UTF-8, not the local code page.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerows(report_csv_rows(course_report(channel)))
    return response
