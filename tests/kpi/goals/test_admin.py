"""Edits in the Django admin go through the goal-table services: the 指标值 is parsed again, a target
change of an indicator with actuals is kept as an IndicatorChange, and the table is rescored."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from kpi.models import GoalTable, Indicator, IndicatorChange
from kpi.reports.services import actual_record
from kpi.rescoring.tasks import rescore_table
from tests.factories import UserFactory, rescore_stale, table_with_indicators

pytestmark = pytest.mark.django_db
JULY = dt.date(2026, 7, 31)


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(rescore_table, "delay", lambda table_id: messages.append(table_id))
    return messages


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def change_data(indicator: Indicator, **changes) -> dict:
    data = {
        "table": indicator.table_id, "order": indicator.order, "level1": indicator.level1,
        "level2": indicator.level2, "name": indicator.name, "target_raw": indicator.target_raw,
        "basis": indicator.basis, "last_year": indicator.last_year, "weight": indicator.weight,
        "rule": indicator.rule, "evidence": indicator.evidence, "accumulation": indicator.accumulation,
        "not_applicable_reason": indicator.not_applicable_reason,
    }
    data.update(changes)
    return data


def test_editing_a_target_parses_it_again_keeps_the_change_and_rescores(superuser_client, sent,
                                                                        django_capture_on_commit_callbacks):
    table, indicators = table_with_indicators()
    rate = indicators[1]  # >=95%
    with django_capture_on_commit_callbacks(execute=True):  # committed, as the lead's own request was
        actual_record(indicator=rate, as_of=JULY, value=Decimal("96"))
    rescore_stale()
    sent.clear()
    url = reverse("admin:kpi_indicator_change", args=[rate.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(url, change_data(rate, target_raw="<=5%"))
    assert response.status_code == 302, response.content.decode()[:2000]
    rate.refresh_from_db()
    assert (rate.target_kind, rate.target_value, rate.unit) == ("reverse", Decimal("5"), "%")
    change = IndicatorChange.objects.get(indicator=rate)
    assert (change.field, change.old_value, change.new_value, change.source) == ("target", ">=95%", "<=5%", "管理后台")
    assert GoalTable.objects.get(pk=table.pk).is_stale and sent == [table.pk]
    assert rate.history.latest().history_user.is_superuser


def test_the_inline_rows_of_a_goal_table_go_through_the_services(superuser_client, sent,
                                                                 django_capture_on_commit_callbacks):
    table, indicators = table_with_indicators()
    rescore_stale()
    url = reverse("admin:kpi_goaltable_change", args=[table.pk])
    prefix = "indicators"
    data = {
        "scope": table.scope, "unit": table.unit_id, "project": table.project_id, "year": table.year,
        "overall_goal": "总体目标", "status": table.status, "source": "",
        f"{prefix}-TOTAL_FORMS": len(indicators), f"{prefix}-INITIAL_FORMS": len(indicators),
        f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for i, indicator in enumerate(indicators):
        row = {"id": indicator.pk, "table": table.pk, "order": indicator.order, "level1": indicator.level1,
               "level2": indicator.level2, "name": indicator.name, "target_raw": indicator.target_raw,
               "weight": indicator.weight, "rule": indicator.rule, "not_applicable_reason": ""}
        if i == 0:
            row["target_raw"] = ">=120人次"
        data.update({f"{prefix}-{i}-{key}": value for key, value in row.items()})
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    first = Indicator.objects.get(pk=indicators[0].pk)
    assert (first.target_raw, first.target_value, first.unit) == (">=120人次", Decimal("120"), "人次")
    assert GoalTable.objects.get(pk=table.pk).overall_goal == "总体目标"
    assert sent == [table.pk]  # once, for the header and the row together
    assert not IndicatorChange.objects.exists()  # no actuals yet: nothing to keep


def test_an_indicator_with_actuals_cannot_be_deleted(sent):
    from django.core.exceptions import ValidationError

    from kpi.goals.services import indicator_delete

    _table, indicators = table_with_indicators()
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("50"))
    with pytest.raises(ValidationError, match="已有实际完成值，不能删除"):
        indicator_delete(indicator=indicators[0])
    indicator_delete(indicator=indicators[1])
    assert not Indicator.objects.filter(pk=indicators[1].pk).exists()
