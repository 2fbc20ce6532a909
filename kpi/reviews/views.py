"""The review queue page: every submitted report waiting for the user's decision, each opening on the
report page at its date, where its 审核 buttons are."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from .selectors import approvable_unit_ids, reports_awaiting_review, reports_stuck_in_closed_years


@login_required
def queue(request):
    """待审核 — oldest first; each row says whether the user may approve it or only return it."""
    reports = list(reports_awaiting_review(user=request.user))
    stuck = list(reports_stuck_in_closed_years(user=request.user))
    approvable = approvable_unit_ids(user=request.user) if reports or stuck else set()
    today = timezone.localdate()
    for report in stuck:
        report.may_reopen = report.table.unit_id in approvable  # administrators close and reopen years
    for report in reports:
        report.may_approve = report.table.unit_id in approvable
        submitted = timezone.localtime(report.submitted_at).date() if report.submitted_at else today
        report.waiting_days = (today - submitted).days
    return render(request, "reviews/queue.html", {"reports": reports, "stuck": stuck})
