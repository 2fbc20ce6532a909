"""Writes of year closing (关账): the unit's year row (budgets) and the status of its goal tables."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery

from budgets.models import Unit, UnitYear
from budgets.services import CHANGE_REASON_MAX, unit_year_for_update, unit_year_set_closed
from kpi.models import GoalTable, Report

YEAR_CLOSE_REASON = "年度关账"  # the change reason of the goal-table history records a year close writes
STATUS_BEFORE_CLOSE = "关账前状态"  # a record of the status a table had, written when its history lacked it
RESTORED_UNKNOWN = "关账前状态无记录，恢复为草稿"
FORCE_LABEL = "仍有待审核的填报，确认关账"


@transaction.atomic
def unit_year_close(*, unit: Unit, year: int, user: AbstractBaseUser | None, force: bool = False) -> UnitYear:
    """关账: make a unit's year read-only and close its goal tables.

    Refused while submitted reports wait for review (after closing no one may approve or return them),
    unless `force` says the administrator decided to close anyway. Each table closed here gets a history
    record with the reason YEAR_CLOSE_REASON, preceded by a record of its status then when its history did
    not show it (a status set without history), so that reopening always finds the status to give back.
    Tables that were already closed are left alone (and so stay closed on reopening).
    """
    unit_year = unit_year_for_update(unit=unit, year=year)
    if unit_year.closed:
        raise ValidationError(f"{unit.name} {year} 年度已经关账，不能重复关账。")
    waiting = Report.objects.filter(table__unit=unit, table__year=year, status=Report.Status.SUBMITTED).count()
    if waiting and not force:
        raise ValidationError(
            {"force": f"仍有 {waiting} 份填报已提交、等待审核：关账后不能再审核通过或退回。"
                      f"请先审核；如确需现在关账，请勾选“{FORCE_LABEL}”。"},
            code="reports_waiting",
        )
    # order_by("pk"): the default ordering joins the nullable project, which FOR UPDATE cannot lock.
    tables = list(
        GoalTable.objects.select_for_update().filter(unit=unit, year=year).exclude(status=GoalTable.Status.CLOSED)
        .order_by("pk")
    )
    recorded = _latest_recorded_statuses(table_ids=[t.pk for t in tables])
    for table in tables:
        table._history_user = user
        if recorded.get(table.pk) != table.status:
            table._change_reason = STATUS_BEFORE_CLOSE
            table.save(update_fields=["status"])
        table.status = GoalTable.Status.CLOSED
        table.full_clean()
        table._change_reason = YEAR_CLOSE_REASON
        table.save(update_fields=["status"])
    return unit_year_set_closed(unit_year=unit_year, closed=True, user=user)


@transaction.atomic
def unit_year_reopen(*, unit: Unit, year: int, user: AbstractBaseUser | None, reason: str) -> UnitYear:
    """Reopen a closed year with a written reason; the goal tables the close closed get their status back
    (a table whose status before the close is nowhere recorded becomes a draft, and its history says so)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "重新开放年度时必须填写原因。"})
    unit_year = unit_year_for_update(unit=unit, year=year)
    if not unit_year.closed:
        raise ValidationError(f"{unit.name} {year} 年度尚未关账，无需重新开放。")
    tables = {
        t.pk: t
        for t in GoalTable.objects.select_for_update().filter(unit=unit, year=year, status=GoalTable.Status.CLOSED)
        .order_by("pk")
    }
    for table_id, status in _statuses_before_year_close(table_ids=list(tables)).items():
        table = tables[table_id]
        table.status = status or GoalTable.Status.DRAFT
        table.full_clean()
        table._history_user = user
        table._change_reason = (reason if status else f"{RESTORED_UNKNOWN}：{reason}")[:CHANGE_REASON_MAX]
        table.save(update_fields=["status"])
    return unit_year_set_closed(unit_year=unit_year, closed=False, user=user, reason=reason)


def _latest_recorded_statuses(*, table_ids: list[int]) -> dict[int, str]:
    """Per table, the status of its latest history record (tables without one are absent). One query."""
    records = GoalTable.history.model.objects
    latest = records.filter(id=OuterRef("id")).order_by("-history_date", "-history_id").values("history_id")[:1]
    return dict(records.filter(id__in=table_ids, history_id=Subquery(latest)).values_list("id", "status"))


def _statuses_before_year_close(*, table_ids: list[int]) -> dict[int, str | None]:
    """Per closed table whose latest history record is a year close, the status of the record before it
    (None when there is none: the status it had is unknown)."""
    records: dict[int, list] = {}
    for record in GoalTable.history.filter(id__in=table_ids).order_by("id", "-history_date", "-history_id").only(
        "id", "status", "history_change_reason", "history_date"
    ):
        records.setdefault(record.id, []).append(record)
    restored = {}
    for table_id, (latest, *older) in records.items():
        if latest.history_change_reason == YEAR_CLOSE_REASON:
            restored[table_id] = older[0].status if older else None
    return restored
