"""Writes of year closing (关账): the unit's year row (budgets) and the status of its goal tables."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from budgets.models import Unit, UnitYear
from budgets.services import CHANGE_REASON_MAX, unit_year_for_update, unit_year_set_closed
from kpi.models import GoalTable

YEAR_CLOSE_REASON = "年度关账"  # the change reason of the goal-table history records a year close writes


@transaction.atomic
def unit_year_close(*, unit: Unit, year: int, user: AbstractBaseUser | None) -> UnitYear:
    """关账: make a unit's year read-only and close its goal tables.

    Each table closed here gets a history record with the reason YEAR_CLOSE_REASON; reopening the year
    reads the record before it to give each table back the status it had. Tables that were already
    closed are left alone (and so stay closed on reopening).
    """
    unit_year = unit_year_for_update(unit=unit, year=year)
    if unit_year.closed:
        raise ValidationError(f"{unit.name} {year} 年度已经关账，不能重复关账。")
    # order_by("pk"): the default ordering joins the nullable project, which FOR UPDATE cannot lock.
    for table in GoalTable.objects.select_for_update().filter(unit=unit, year=year).exclude(
        status=GoalTable.Status.CLOSED
    ).order_by("pk"):
        table.status = GoalTable.Status.CLOSED
        table.full_clean()
        table._history_user = user
        table._change_reason = YEAR_CLOSE_REASON
        table.save(update_fields=["status"])
    return unit_year_set_closed(unit_year=unit_year, closed=True, user=user)


@transaction.atomic
def unit_year_reopen(*, unit: Unit, year: int, user: AbstractBaseUser | None, reason: str) -> UnitYear:
    """Reopen a closed year with a written reason; the goal tables the close closed get their status back."""
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
        table.status = status
        table.full_clean()
        table._history_user = user
        table._change_reason = reason[:CHANGE_REASON_MAX]
        table.save(update_fields=["status"])
    return unit_year_set_closed(unit_year=unit_year, closed=False, user=user, reason=reason)


def _statuses_before_year_close(*, table_ids: list[int]) -> dict[int, str]:
    """Per closed table whose latest history record is a year close, the status of the record before it."""
    records: dict[int, list] = {}
    for record in GoalTable.history.filter(id__in=table_ids).order_by("id", "-history_date", "-history_id").only(
        "id", "status", "history_change_reason", "history_date"
    ):
        records.setdefault(record.id, []).append(record)
    restored = {}
    for table_id, (latest, *older) in records.items():
        if latest.history_change_reason == YEAR_CLOSE_REASON and older:
            restored[table_id] = older[0].status
    return restored
