"""The explanation thresholds of a policy: a deviation reason is required when an actual exceeds its target by
more than the set ratio (e.g. 130%), and when the 执行率 is below the set rate (e.g. 90%) — by the rules
(kpi.entries), on the report page (beside the field, nothing typed lost) and in the bulk import."""
import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from budgets.models import BudgetExecution
from kpi import scoring
from kpi.entries import check_entry, check_execution
from kpi.importers.actuals import ACTUALS_COLUMNS, EXECUTION_COLUMNS, ActualsImportError, actuals_import
from kpi.models import Actual
from kpi.targets import parse_target
from tests.factories import ScoringPolicyFactory
from tests.kpi.reports.conftest import entry_data, errors_in, page_url, row_html

from .conftest import JULY

pytestmark = pytest.mark.django_db
D = Decimal
OVER_130 = scoring.Policy(reason_over_target_percent=D(130))
BELOW_90 = scoring.Policy(reason_below_execution_rate=D(90))


def entry(text: str, value: str, *, reason: str = "", policy=OVER_130):
    target = parse_target(text)
    return check_entry(kind=target.kind, rule=scoring.Rule.PROPORTIONAL, target=target, target_value=target.value,
                       weight=D(10), unit=target.unit, cumulative=False, month=12, value=D(value),
                       deviation_reason=reason, deviation_category="其他" if reason else "", policy=policy)


# --- the rules (pure) --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value", "percent"), [
    (">=100人次", "131", "130"), (">=100人次", "130", "130"), (">=100人次", "129.99", "130"),
    ("=100%", "100", "130"), (">=6万人次", "9", "150"), (">=6万人次", "9.01", "150"),
    ("=50-100元", "131", "130"), ("=50-100元", "120", "130"),
])
def test_a_reason_is_required_above_the_set_percent_of_the_target(text, value, percent):
    target = parse_target(text)
    reference = target.upper if target.kind.value == "range" else target.value
    required = D(value) > reference * D(percent) / 100
    policy = scoring.Policy(reason_over_target_percent=D(percent))
    check = entry(text, value, policy=policy)
    assert ("deviation_reason" in check.errors) == required
    if required:
        # (above a range's upper end the light is off track too: its message comes first, the reason is the same)
        assert "偏差原因" in check.errors["deviation_reason"]
        assert entry(text, value, reason="目标设定偏低", policy=policy).ok
    if required and target.kind.value != "range":
        assert f"的 {percent}%" in check.errors["deviation_reason"]


def test_no_threshold_no_reason_needed():
    assert entry(">=100人次", "500", policy=scoring.DEFAULT_POLICY).ok


@pytest.mark.parametrize(("budget", "executed", "rate"), [
    ("100", "89.99", "90"), ("100", "90", "90"), ("100", "50", "90"), ("438.768", "400", "90"),
    ("0", "5", "90"), ("100", "79", "80"), ("100", "120", "90"),
])
def test_a_reason_is_required_below_the_set_execution_rate(budget, executed, rate):
    b, e = D(budget), D(executed)
    required = b > 0 and (e / b).quantize(D("0.0001")) * 100 < D(rate)
    policy = scoring.Policy(reason_below_execution_rate=D(rate))
    check = check_execution(budget=b, executed=e, policy=policy)
    assert ("deviation_reason" in check.errors) == required
    if required:
        assert f"低于评分政策“默认评分政策”规定的 {rate}%" in check.errors["deviation_reason"]
    assert check_execution(budget=b, executed=e, deviation_reason="下半年集中支付", policy=policy).ok
    assert check_execution(budget=b, executed=e).ok  # no threshold set


# --- the report page -----------------------------------------------------------------------------------

@pytest.fixture
def strict(world):
    """The world's 2026 tables under a policy asking reasons above 130% of a target and below 90% 执行率."""
    ScoringPolicyFactory(name="严格政策", year=2026, reason_over_target_percent=D(130), reason_below_execution_rate=D(90))
    project, table, indicators = world.good
    return project, table, {i.name: i for i in indicators}


def test_the_report_page_asks_the_reason_beside_the_field_and_keeps_what_was_typed(client, world, strict):
    project, table, named = strict
    people = named["培训人次"]
    client.force_login(world.people.lead)
    page = client.get(page_url(table)).content.decode()
    assert "评分政策：严格政策（第1版）" in page
    response = client.post(page_url(table), entry_data({people: {"value": "140"}}))
    page = response.content.decode()
    assert response.status_code == 200 and "有填写错误" in page
    row = row_html(page, people)
    assert f'name="i{people.pk}-value" value="140"' in row
    assert any("超过指标值 100人次 的 130%" in e and "严格政策（第1版）" in e for e in errors_in(row)), errors_in(row)
    assert not Actual.objects.filter(as_of=JULY).exists()

    response = client.post(page_url(table), entry_data({people: {"value": "140", "deviation_reason": "新增培训班"}}))
    assert response.status_code == 302
    assert Actual.objects.get(indicator=people, as_of=JULY).deviation_reason == "新增培训班"


def test_the_execution_form_asks_the_reason_for_a_low_rate(client, world, strict):
    project, table, _ = strict
    client.force_login(world.people.admin)
    url = reverse("reports:execution", args=[table.pk])
    response = client.post(url, {"as_of": "2026-07-31", "executed": "50"})
    page = response.content.decode()
    assert response.status_code == 200 and "预算执行未保存" in page
    assert "预算执行率 50% 低于评分政策“严格政策（第1版）”规定的 90%，请填写执行率偏差原因。" in page
    assert 'name="executed"' in page and 'value="50"' in page
    assert not BudgetExecution.objects.filter(as_of=JULY).exists()

    response = client.post(url, {"as_of": "2026-07-31", "executed": "50", "deviation_reason": "设备下半年到货"})
    assert response.status_code == 302
    execution = BudgetExecution.objects.get(project=project, as_of=JULY)
    assert execution.history.latest().history_change_reason == "执行率偏差原因：设备下半年到货"


def test_the_execution_form_has_no_reason_field_without_a_threshold(client, world):
    project, table, _ = world.good
    client.force_login(world.people.admin)
    assert 'name="deviation_reason"' not in client.get(page_url(table)).content.decode().split('id="execution"')[1]
    response = client.post(reverse("reports:execution", args=[table.pk]), {"as_of": "2026-07-31", "executed": "50"})
    assert response.status_code == 302


# --- the bulk import -----------------------------------------------------------------------------------

def csv_bytes(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_the_bulk_import_asks_the_reason_above_the_ratio(world, strict):
    project, table, named = strict
    header = ACTUALS_COLUMNS[:8]  # …, 偏差原因类别, 偏差原因
    row = [project.name, "培训人次", "2026-07-31", "140", "", "", "", ""]
    with pytest.raises(ActualsImportError) as refused:
        actuals_import(unit=world.unit_a, year=2026, rows_source=csv_bytes(header, [row]), filename="a.csv")
    assert any("第 2 行（偏差原因）" in e and "超过指标值 100人次 的 130%" in e for e in refused.value.errors)
    assert not Actual.objects.filter(as_of=JULY).exists()
    row[7] = "新增培训班"
    result = actuals_import(unit=world.unit_a, year=2026, rows_source=csv_bytes(header, [row]), filename="a.csv")
    assert result.recorded == 1 and Actual.objects.get(as_of=JULY).deviation_reason == "新增培训班"


def test_the_bulk_import_asks_the_reason_for_a_low_rate(world, strict):
    project, table, _ = strict
    header = (*EXECUTION_COLUMNS[:4], "执行率偏差原因")
    row = [project.name, "2026-07-31", "", "50", ""]
    with pytest.raises(ActualsImportError) as refused:
        actuals_import(unit=world.unit_a, year=2026, rows_source=csv_bytes(header, [row]), filename="e.csv",
                       execution=True)
    assert any("第 2 行（执行率偏差原因）" in e and "低于评分政策“严格政策（第1版）”规定的 90%" in e
               for e in refused.value.errors), refused.value.errors
    assert not BudgetExecution.objects.filter(as_of=JULY).exists()
    row[4] = "设备下半年到货"
    result = actuals_import(unit=world.unit_a, year=2026, rows_source=csv_bytes(header, [row]), filename="e.csv",
                            execution=True)
    assert result.recorded == 1
    execution = BudgetExecution.objects.get(project=project, as_of=JULY)
    assert execution.history.latest().history_change_reason == "执行率偏差原因：设备下半年到货"


def test_the_bulk_import_takes_a_high_rate_without_a_reason(world, strict):
    project, _, _ = strict
    data = csv_bytes(EXECUTION_COLUMNS[:4], [[project.name, "2026-07-31", "", "95"]])
    assert actuals_import(unit=world.unit_a, year=2026, rows_source=data, filename="e.csv", execution=True).recorded == 1
