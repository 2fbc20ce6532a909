"""填报提醒 — monthly reminders of the monitoring reports due (domain.md §6).

On the reminder day of a month, last month's figures are due. A project is overdue when its goal table
(project scope, draft or approved, of that month's year, the unit's year not closed) has no report as of
that month or later, returned ones (已退回) excepted. Each lead gets one e-mail listing their overdue
projects; each unit administrator gets one digest of their units' overdue projects. Every sent e-mail is
recorded in `ReminderSent`, so running twice for the same period sends nothing twice.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction

from budgets.models import Role, UnitMembership
from kpi.formatting import person_name
from kpi.models import ReminderSent

from .selectors import Overdue, Period, overdue_projects, reminder_period

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "【绩效监控】"
FOOTER = "此邮件由 Jixiao 绩效系统自动发送，请勿直接回复。"


def reminders_send(*, today: dt.date) -> dict:
    """Send the reminders due on `today` (leads, then unit administrators) and return what happened.

    Safe to run twice: a (user, kind, period) already in `ReminderSent` is not mailed again. Users without
    an e-mail address are skipped and counted; inactive users get nothing.
    """
    period = reminder_period(today=today)
    overdue = overdue_projects(period=period)
    counts = {
        "period": period.end, "overdue_projects": len(overdue), "sent_lead": 0, "sent_digest": 0,
        "already_sent": 0, "skipped_no_email": 0, "projects_without_lead": 0,
    }
    by_lead: dict[int, tuple[object, list[Overdue]]] = {}
    for item in overdue:
        if item.lead is None:
            counts["projects_without_lead"] += 1
        elif item.lead.is_active:
            by_lead.setdefault(item.lead.pk, (item.lead, []))[1].append(item)

    by_unit: dict[int, list[Overdue]] = {}
    for item in overdue:
        by_unit.setdefault(item.unit_id, []).append(item)
    by_admin: dict[int, tuple[object, list[Overdue]]] = {}
    memberships = (
        UnitMembership.objects.filter(role=Role.ADMIN, unit_id__in=by_unit, user__is_active=True)
        .select_related("user").order_by("user_id", "unit__code")
    )
    for membership in memberships:
        by_admin.setdefault(membership.user_id, (membership.user, []))[1].extend(by_unit[membership.unit_id])

    mails = [
        (user, ReminderSent.Kind.LEAD, "sent_lead",
         f"{SUBJECT_PREFIX}请填报 {period.month} 绩效运行监控数据（{len(items)} 个项目）",
         _lead_body(user=user, items=items, period=period, today=today))
        for user, items in by_lead.values()
    ] + [
        (user, ReminderSent.Kind.DIGEST, "sent_digest",
         f"{SUBJECT_PREFIX}{period.month} 逾期未填报项目汇总（{len(items)} 个项目）",
         _digest_body(user=user, items=items, period=period, today=today))
        for user, items in by_admin.values()
    ]
    if mails and not settings.JIXIAO_SITE_URL:
        logger.warning("JIXIAO_SITE_URL is not set: the reminder e-mails carry paths, not links (see .env.example).")
    if mails:
        with get_connection() as connection:  # one SMTP session for all of them
            for user, kind, counter, subject, body in mails:
                outcome = _send_once(
                    user=user, kind=kind, period=period, connection=connection, subject=subject, body=body
                )
                counts[counter if outcome == "sent" else outcome] += 1
    logger.info("Reminders for %s: %s", period.end, counts)
    return counts


def _send_once(*, user, kind: str, period: Period, connection, subject: str, body: str) -> str:
    """Send one e-mail unless already sent for the period: "sent", "already_sent" or "skipped_no_email".

    The record and the e-mail share a transaction: if sending fails, nothing is recorded and a retry
    sends it; a concurrent run waits on the unique row instead of sending a second copy.
    """
    if not user.email:
        return "skipped_no_email"
    with transaction.atomic():
        _, created = ReminderSent.objects.get_or_create(user=user, kind=kind, period=period.end)
        if not created:
            return "already_sent"
        EmailMessage(
            subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email],
            connection=connection,
        ).send()
    return "sent"


def _lead_body(*, user, items: list[Overdue], period: Period, today: dt.date) -> str:
    lines = [
        f"{person_name(user)}，您好：",
        "",
        f"按照绩效运行监控要求，每月 {settings.JIXIAO_REMINDER_DAY} 日前应填报上月的实际完成情况。截至 {_day(today)}，"
        f"您负责的以下项目尚未填报 {period.label}的绩效运行监控数据：",
        "",
    ]
    for number, item in enumerate(items, start=1):
        lines += [f"{number}. {item.project_name}（{item.unit_name}）", f"   填报地址：{_link(item.report_path or item.path)}"]
    lines += ["", "请尽快登录系统填报。如已填报，请忽略本邮件。", "", FOOTER]
    return "\n".join(lines)


def _digest_body(*, user, items: list[Overdue], period: Period, today: dt.date) -> str:
    lines = [
        f"{person_name(user)}，您好：",
        "",
        f"截至 {_day(today)}，您管理的单位共有 {len(items)} 个项目尚未填报 {period.label}的"
        "绩效运行监控数据：",
    ]
    unit_name = None
    for number, item in enumerate(items, start=1):
        if item.unit_name != unit_name:
            unit_name = item.unit_name
            lines += ["", f"【{unit_name}】"]
        lines.append(f"{number}. {item.project_name} — 项目负责人：{item.lead_name} — {_link(item.path)}")
    lines += ["", "请督促项目负责人尽快填报。", "", FOOTER]
    return "\n".join(lines)


def _day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _link(path: str) -> str:
    """An absolute address (JIXIAO_SITE_URL + path): a mail is read outside the site, where a path leads nowhere."""
    return f"{settings.JIXIAO_SITE_URL.rstrip('/')}{path}"
