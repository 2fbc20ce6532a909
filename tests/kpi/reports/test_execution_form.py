"""The budget execution form: every typed value kept on an error, success said only for what was saved, 执行数
and 全年预算数 per funds source (a project's, and the 部门整体 table's), pre-filled with what was recorded."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from budgets.models import BudgetExecution, UnitBudget
from kpi.reports.services import execution_report
from tests.factories import UnitBudgetFactory, table_with_indicators

from .conftest import JULY

pytestmark = pytest.mark.django_db


def execution_url(table):
    return reverse("reports:execution", args=[table.pk])


def field_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, name
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else None


def section(page: str) -> str:
    start = page.index('id="execution"')
    return page[start:page.index("</section>", start)]


def test_leaving_out_the_reason_keeps_everything_typed_and_saves_nothing(client, setup):
    project, table = setup["project"], setup["table"]
    client.force_login(setup["admin"])
    typed = {"as_of": "2026-07-31", "executed": "46", "executed_fiscal": "40", "executed_carryover": "6",
             "budget_adjusted": "120", "budget_fiscal": "100", "budget_carryover": "20", "adjustment_reason": ""}
    response = client.post(execution_url(table), typed)
    page = response.content.decode()
    assert response.status_code == 200
    assert "调整全年预算数时必须填写调整原因" in section(page) and "预算执行未保存" in page
    for name in ("executed", "executed_fiscal", "executed_carryover", "budget_adjusted", "budget_fiscal",
                 "budget_carryover"):
        assert field_value(page, name) == typed[name], name
    assert not BudgetExecution.objects.exists()
    project.refresh_from_db()
    assert project.budget_adjusted is None
    assert "已记录" not in page


def test_once_complete_the_message_says_exactly_what_was_saved(client, setup):
    project, table = setup["project"], setup["table"]
    client.force_login(setup["admin"])
    response = client.post(execution_url(table), {
        "as_of": "2026-07-31", "executed": "46", "executed_fiscal": "40", "executed_carryover": "6",
        "budget_adjusted": "120", "budget_fiscal": "100", "budget_carryover": "20",
        "adjustment_reason": "年中追加培训经费"}, follow=True)
    page = response.content.decode()
    assert ("已记录截至 2026-07-31 的累计执行数 46 万元（其中本年财政拨款 40 万元，上年结转 6 万元，其他资金 0 万元）；"
            "全年预算数调整为 120 万元（其中本年财政拨款 100 万元，上年结转 20 万元，其他资金 0 万元），"
            "调整原因：年中追加培训经费。") in page
    execution = BudgetExecution.objects.get()
    assert (execution.executed, execution.fiscal, execution.carryover, execution.other) == (
        Decimal("46"), Decimal("40"), Decimal("6"), Decimal("0"))
    project.refresh_from_db()
    assert (project.budget_adjusted, project.fiscal_adjusted, project.carryover_adjusted, project.other_adjusted) == (
        Decimal("120"), Decimal("100"), Decimal("20"), Decimal("0"))
    # the page shows what is recorded, and the form is pre-filled with it
    assert field_value(page, "executed_fiscal") == "40.00" and field_value(page, "budget_carryover") == "20.00"
    assert "本日已记录累计执行数 46 万元（其中本年财政拨款 40 万元" in section(page)
    # the same again records nothing new and says so
    response = client.post(execution_url(table), {
        "as_of": "2026-07-31", "executed": "46", "executed_fiscal": "40", "executed_carryover": "6",
        "executed_other": "0", "budget_adjusted": "120", "budget_fiscal": "100", "budget_carryover": "20",
        "budget_other": "0", "adjustment_reason": "年中追加培训经费"}, follow=True)
    assert "预算执行没有修改，无需保存。" in response.content.decode()
    assert BudgetExecution.objects.count() == 1


def test_sources_that_do_not_add_up_are_refused_with_everything_kept_and_nothing_half_saved(client, setup):
    project, table = setup["project"], setup["table"]
    client.force_login(setup["admin"])
    response = client.post(execution_url(table), {
        "as_of": "2026-07-31", "executed": "46", "executed_fiscal": "40", "executed_carryover": "5",
        "budget_adjusted": "120", "budget_fiscal": "100", "budget_carryover": "20", "adjustment_reason": "追加"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "各资金来源的执行数合计 45" in section(page) and "与执行数 46" in section(page)
    assert field_value(page, "executed_carryover") == "5" and field_value(page, "budget_adjusted") == "120"
    assert not BudgetExecution.objects.exists()
    project.refresh_from_db()
    assert project.budget_adjusted is None  # the adjustment went back with the refused execution
    response = client.post(execution_url(table), {
        "as_of": "2026-07-31", "executed": "46", "budget_adjusted": "120", "budget_fiscal": "100",
        "budget_carryover": "10", "adjustment_reason": "追加"})
    assert "各资金来源的全年预算数合计 110" in section(response.content.decode())
    assert not BudgetExecution.objects.exists()


def test_a_total_left_blank_is_the_sum_of_its_sources(client, setup):
    client.force_login(setup["lead"])
    client.post(execution_url(setup["table"]), {"as_of": "2026-07-31", "executed_fiscal": "30",
                                                "executed_other": "2.5"})
    execution = BudgetExecution.objects.get()
    assert (execution.executed, execution.fiscal, execution.carryover) == (Decimal("32.5"), Decimal("30"), Decimal("0"))
    response = client.post(execution_url(setup["table"]), {"as_of": "2026-07-31"})
    assert "请填写累计执行数" in section(response.content.decode())


def test_a_lead_records_execution_per_source_but_no_budget(client, setup):
    client.force_login(setup["lead"])
    page = client.get(f"{reverse('reports:table', args=[setup['table'].pk])}?as_of=2026-07-31").content.decode()
    assert 'name="executed_fiscal"' in page and 'name="executed_carryover"' in page and 'name="executed_other"' in page
    assert 'name="budget_adjusted"' not in page and 'name="budget_fiscal"' not in page
    client.post(execution_url(setup["table"]), {"as_of": "2026-07-31", "executed": "10", "budget_adjusted": "500",
                                                "budget_fiscal": "500", "adjustment_reason": "x"})
    setup["project"].refresh_from_db()
    assert setup["project"].budget_adjusted is None and BudgetExecution.objects.get().executed == Decimal("10")


def test_the_form_is_prefilled_with_what_was_recorded_for_that_date(client, setup):
    execution_report(project=setup["project"], as_of=JULY, executed=Decimal("50"),
                     by_source={"fiscal": Decimal("45"), "carryover": Decimal("5")})
    client.force_login(setup["admin"])
    page = client.get(f"{reverse('reports:table', args=[setup['table'].pk])}?as_of=2026-07-31").content.decode()
    assert field_value(page, "executed") == "50.00" and field_value(page, "executed_fiscal") == "45.00"
    assert field_value(page, "executed_other") == "0.00" and field_value(page, "budget_adjusted") == "100.00"
    page = client.get(f"{reverse('reports:table', args=[setup['table'].pk])}?as_of=2026-08-31").content.decode()
    assert field_value(page, "executed") is None  # nothing recorded for that date yet


def test_the_units_own_table_takes_its_own_sources(client, setup):
    unit = setup["unit"]
    UnitBudgetFactory(unit=unit, year=2026, fiscal_superior=Decimal("35"), fiscal_local=Decimal("612.4"))
    table, _ = table_with_indicators(unit=unit, rows=[("履职效能", "质量指标", "稽核覆盖率", ">=95%", Decimal("90"))])
    client.force_login(setup["admin"])
    page = client.get(f"{reverse('reports:table', args=[table.pk])}?as_of=2026-07-31").content.decode()
    assert "其中：财政资金（上级安排）" in page and "其中：财政资金（本级安排）" in page
    assert 'name="executed_carryover"' not in page
    response = client.post(execution_url(table), {
        "as_of": "2026-07-31", "executed": "300", "executed_fiscal_superior": "20", "executed_fiscal_local": "280",
        "budget_adjusted": "660", "budget_fiscal_superior": "35", "budget_fiscal_local": "620", "budget_other": "5",
        "adjustment_reason": "追加"}, follow=True)
    assert "财政资金（本级安排） 620 万元" in response.content.decode()
    execution = BudgetExecution.objects.get(project__isnull=True)
    assert (execution.unit, execution.fiscal_superior, execution.fiscal_local) == (unit, Decimal("20"), Decimal("280"))
    budget = UnitBudget.objects.get(unit=unit, year=2026)
    assert (budget.adjusted, budget.fiscal_local_adjusted, budget.other_adjusted) == (
        Decimal("660"), Decimal("620"), Decimal("5"))


def test_adding_the_split_to_an_already_adjusted_budget_needs_no_new_total(client, setup):
    from kpi.reports.services import budget_adjust

    budget_adjust(project=setup["project"], adjusted=Decimal("120"), reason="追加", user=setup["admin"])
    client.force_login(setup["admin"])
    response = client.post(execution_url(setup["table"]), {
        "as_of": "2026-07-31", "executed": "46", "budget_adjusted": "120", "budget_fiscal": "110",
        "budget_other": "10", "adjustment_reason": "追加"}, follow=True)
    assert "全年预算数调整为 120 万元（其中本年财政拨款 110 万元" in response.content.decode()
    setup["project"].refresh_from_db()
    assert (setup["project"].fiscal_adjusted, setup["project"].other_adjusted) == (Decimal("110"), Decimal("10"))
