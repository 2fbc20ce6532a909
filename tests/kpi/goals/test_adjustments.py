"""调整 (kpi.goals.adjustments): proposing, the review, 批复 into versions in force, and scores by date."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kpi.goals import adjustments as adjusting
from kpi.goals.adjustments import (
    adjustment_pass,
    adjustment_propose,
    adjustment_ratify,
    adjustment_return,
    adjustment_submit,
    adjustment_withdraw,
)
from kpi.goals.review import MUST, Finding
from kpi.goals.services import goal_table_approve
from kpi.models import Adjustment, GoalTableStep, Indicator, IndicatorChange, IndicatorVersion, Score
from kpi.rescoring import services as rescoring
from kpi.rescoring.tasks import rescore_table
from tests.factories import (
    IMPORTED,
    ActualFactory,
    ProjectFactory,
    approve_reports,
    rescore_stale,
    table_with_indicators,
)

pytestmark = pytest.mark.django_db
JUNE, JULY = dt.date(2026, 6, 30), dt.date(2026, 7, 31)
EFFECTIVE = dt.date(2026, 7, 1)
A = Adjustment.Status


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def clean_review(monkeypatch):
    monkeypatch.setattr(adjusting, "table_findings", lambda table: [])


@pytest.fixture
def w(review_tree):
    """The review tree (conftest) and an imported table of its unit, approved."""
    table, indicators = table_with_indicators(ProjectFactory(unit=review_tree["unit"], lead=review_tree["lead"]),
                                              source=IMPORTED)
    goal_table_approve(table=table, user=review_tree["admin"])
    return {**review_tree, "table": table, "count": indicators[0], "rate": indicators[1]}


def propose(w, **rows):
    rows = rows or {w["count"].pk: {"target_raw": ">=90人次"}}
    return adjustment_propose(w["table"], w["admin"], "培训场地减少，任务量下调", EFFECTIVE, rows)


def walk(w, adjustment):
    adjustment_submit(adjustment, w["admin"])
    adjustment_pass(adjustment, w["reviewer"])
    return adjustment_ratify(adjustment, w["finance"])


def test_proposing_keeps_the_values_in_force_beside_the_new(w):
    adjustment = propose(w, **{str(w["count"].pk): {"target_raw": ">=90人次", "weight": "35"},
                               str(w["rate"].pk): {"target_raw": "", "weight": "", "rule": ""}})
    assert adjustment.status == A.DRAFT and adjustment.created_by == w["admin"]
    (row,) = adjustment.rows.all()  # the unchanged row is dropped
    assert (row.old_target_raw, row.target_raw, row.old_weight, row.weight) == (
        ">=100人次", ">=90人次", Decimal("40.00"), Decimal("35"))
    assert row.rule == row.old_rule == w["count"].rule
    assert Indicator.objects.get(pk=w["count"].pk).target_raw == ">=100人次"  # nothing in force yet


@pytest.mark.parametrize("who", ["lead", "reviewer", "finance", "stranger"])
def test_only_the_units_administrator_proposes(w, who):
    with pytest.raises(PermissionDenied, match="只有本单位的单位管理员可以提出"):
        adjustment_propose(w["table"], w[who], "原因", EFFECTIVE, {w["count"].pk: {"target_raw": ">=90人次"}})
    assert not Adjustment.objects.exists()


def test_proposals_refused(w):
    rows = {w["count"].pk: {"target_raw": ">=90人次"}}
    with pytest.raises(ValidationError, match="必须填写调整原因"):
        adjustment_propose(w["table"], w["admin"], " ", EFFECTIVE, rows)
    with pytest.raises(ValidationError, match="生效日期须在 2026 年度内"):
        adjustment_propose(w["table"], w["admin"], "原因", dt.date(2027, 1, 1), rows)
    with pytest.raises(ValidationError, match="无需调整"):
        adjustment_propose(w["table"], w["admin"], "原因", EFFECTIVE, {w["count"].pk: {"target_raw": ">=100人次"}})
    with pytest.raises(ValidationError, match="不是数字"):
        adjustment_propose(w["table"], w["admin"], "原因", EFFECTIVE, {w["count"].pk: {"weight": "四十"}})
    other, other_rows = table_with_indicators(ProjectFactory(unit=w["table"].unit))
    with pytest.raises(ValidationError, match="不属于该绩效目标表"):
        adjustment_propose(w["table"], w["admin"], "原因", EFFECTIVE, {other_rows[0].pk: {"target_raw": "1"}})
    with pytest.raises(ValidationError, match="只有已批复的目标表需要走调整流程"):
        adjustment_propose(other, w["admin"], "原因", EFFECTIVE, {other_rows[0].pk: {"target_raw": ">=1人次"}})
    propose(w)
    with pytest.raises(ValidationError, match="已有一项调整正在办理"):
        propose(w)
    assert Adjustment.objects.count() == 1


def test_the_review_of_an_adjustment_records_steps_and_refuses_wrong_users_and_states(w):
    adjustment = propose(w)
    with pytest.raises(ValidationError, match="只有已申报的调整可以审核通过"):
        adjustment_pass(adjustment, w["reviewer"])
    with pytest.raises(PermissionDenied):
        adjustment_submit(adjustment, w["lead"])
    adjustment_submit(adjustment, w["admin"])
    for who in ("admin", "lead", "stranger"):
        with pytest.raises(PermissionDenied):
            adjustment_pass(adjustment, w[who])
    with pytest.raises(ValidationError, match="退回时必须填写原因"):
        adjustment_return(adjustment, w["reviewer"], "")
    adjustment_return(adjustment, w["reviewer"], "依据不足")
    adjustment_submit(adjustment, w["admin"])
    adjustment_pass(adjustment, w["reviewer"], note="同意")
    for who in ("admin", "reviewer", "stranger"):
        with pytest.raises(PermissionDenied, match="只有财政部门的审核人可以批复"):
            adjustment_ratify(adjustment, w[who])
    adjustment_ratify(adjustment, w["finance"])
    with pytest.raises(ValidationError, match="当前为“已批复”"):
        adjustment_ratify(adjustment, w["finance"])
    steps = GoalTableStep.objects.filter(adjustment=adjustment).order_by("at", "id")
    assert [(s.action, s.from_status, s.to_status, s.by.username, s.reason) for s in steps] == [
        ("submit", "draft", "submitted", "admin", ""),
        ("return", "submitted", "returned", "reviewer", "依据不足"),
        ("submit", "returned", "submitted", "admin", ""),
        ("pass", "submitted", "passed", "reviewer", "同意"),
        ("approve", "passed", "approved", "finance", ""),
    ]
    assert all(s.table_id == w["table"].pk for s in steps)


def test_an_adjustment_is_reviewed_as_the_table_would_be(w, monkeypatch):
    """The review sees the adjusted rows (applied inside a savepoint, rolled back after)."""
    seen = []

    def findings(table):
        row = Indicator.objects.get(pk=w["count"].pk)
        seen.append((row.target_raw, row.target_value))
        return [Finding("测试", row.name, 1, MUST, "target_below_last_year", "指标值低于上年完成值")]

    monkeypatch.setattr(adjusting, "table_findings", findings)
    adjustment = propose(w)
    with pytest.raises(ValidationError, match="不能申报调整：第 1 行“.*”：指标值低于上年完成值"):
        adjustment_submit(adjustment, w["admin"])
    assert seen == [(">=90人次", Decimal("90"))]
    assert Indicator.objects.get(pk=w["count"].pk).target_raw == ">=100人次"  # rolled back
    assert Adjustment.objects.get(pk=adjustment.pk).status == A.DRAFT


def test_withdrawing_lets_a_new_one_be_proposed(w):
    adjustment = propose(w)
    adjustment_withdraw(adjustment, w["admin"])
    assert Adjustment.objects.get(pk=adjustment.pk).status == A.WITHDRAWN
    assert propose(w).status == A.DRAFT


def test_ratifying_keeps_the_approved_version_and_updates_the_indicator(w):
    ActualFactory(indicator=w["count"], as_of=JUNE, value=Decimal("90"))
    walk(w, propose(w))
    indicator = Indicator.objects.get(pk=w["count"].pk)
    assert (indicator.target_raw, indicator.target_value) == (">=90人次", Decimal("90"))
    version = IndicatorVersion.objects.get(indicator=indicator)
    assert (version.valid_until, version.target_raw, version.target_value, version.weight) == (
        EFFECTIVE, ">=100人次", Decimal("100"), Decimal("40.00"))
    change = IndicatorChange.objects.get(indicator=indicator)
    assert (change.old_value, change.new_value) == (">=100人次", ">=90人次") and "调整" in change.source
    assert Adjustment.objects.get().approved_at is not None


def score_at(indicator, as_of):
    return Score.objects.get(indicator=indicator, as_of=as_of, official=True).points


def test_scores_use_the_version_in_force_at_each_date(w):
    count = w["count"]
    ActualFactory(indicator=count, as_of=JUNE, value=Decimal("90"))
    ActualFactory(indicator=count, as_of=JULY, value=Decimal("90"))
    approve_reports(w["table"])
    rescore_stale()
    assert score_at(count, JUNE) == score_at(count, JULY) == Decimal("36.00")  # 90 of 100: 0.9 × 40
    walk(w, propose(w))
    rescore_stale()
    assert score_at(count, JUNE) == Decimal("36.00")  # the approved target (≥100) until 06-30
    assert score_at(count, JULY) == Decimal("40.00")  # the adjusted one (≥90) from 07-01


def test_a_weight_adjustment_scores_each_date_with_its_weight(w):
    count = w["count"]
    ActualFactory(indicator=count, as_of=JUNE, value=Decimal("100"))
    ActualFactory(indicator=count, as_of=JULY, value=Decimal("100"))
    approve_reports(w["table"])
    walk(w, propose(w, **{str(count.pk): {"weight": "30"}}))
    rescore_stale()
    assert (score_at(count, JUNE), score_at(count, JULY)) == (Decimal("40.00"), Decimal("30.00"))


def test_the_rescore_reads_versions_in_the_same_queries_and_memoises_them_apart(w, django_assert_num_queries):
    """One batch with a plain and an adjusted table: the versions come with the indicators (no query more),
    and two tables sharing a target get each their own version's result (the memo key holds the values)."""
    count = w["count"]
    twin, twin_rows = table_with_indicators(ProjectFactory(unit=w["table"].unit), source=IMPORTED)
    for indicator in (count, twin_rows[0]):
        ActualFactory(indicator=indicator, as_of=JUNE, value=Decimal("90"))
    approve_reports(w["table"])
    approve_reports(twin)
    walk(w, propose(w))
    tables = [w["table"], twin]
    with django_assert_num_queries(3):  # indicators (with their versions), actuals, executions (project budgets: read)
        rows = rescoring._read_batch(tables)
    assert list(rows.versions) == [count.pk]
    assert rows.versions[count.pk][0][0] == EFFECTIVE and rows.versions[count.pk][0][1].target_raw == ">=100人次"
    assert all(len(r) == len(rescoring._INDICATOR_COLUMNS) for table_rows in rows.indicators.values()
               for r in table_rows)
    assert sum(len(r) for r in rows.indicators.values()) == 8  # one row per indicator, however many versions
    rescoring.tables_rescore(table_ids=[t.pk for t in tables])
    # the twin's ≥100 and the adjusted table's old ≥100 give the same result; its new ≥90 a different one
    assert score_at(count, JUNE) == score_at(twin_rows[0], JUNE) == Decimal("36.00")
    ActualFactory(indicator=count, as_of=JULY, value=Decimal("90"))
    approve_reports(w["table"])
    rescoring.tables_rescore(table_ids=[t.pk for t in tables])
    assert score_at(count, JULY) == Decimal("40.00") and score_at(count, JUNE) == Decimal("36.00")


def test_a_second_adjustment_from_an_earlier_date_is_refused(w):
    walk(w, propose(w))
    with pytest.raises(ValidationError, match="不能早于上次调整的生效日期（2026-07-01）"):
        adjustment_propose(w["table"], w["admin"], "再调", dt.date(2026, 5, 1), {w["count"].pk: {"target_raw": ">=80人次"}})


# --- the page ------------------------------------------------------------------------------------------

def test_the_page_proposes_and_shows_approved_beside_adjusted(client, w):
    url = reverse("goals:workflow", args=[w["table"].pk])
    client.force_login(w["admin"])
    html = client.get(url).content.decode()
    assert "提出调整" in html and f'name="target_raw_{w["count"].pk}"' in html
    response = client.post(reverse("goals:adjust", args=[w["table"].pk]), {
        f"target_raw_{w['count'].pk}": ">=90人次", "reason": "任务量下调", "effective_from": "2026-07-01"}, follow=True)
    html = response.content.decode()
    assert "已提出调整" in html and "任务量下调" in html and "2026-07-01 起生效" in html
    assert ">=100人次</td><td><b>&gt;=90人次</b>" in html.replace("&gt;=100", ">=100")
    adjustment = Adjustment.objects.get()
    assert reverse("goals:adjustment", args=[adjustment.pk, "submit"]) in html
    client.post(reverse("goals:adjustment", args=[adjustment.pk, "submit"]))
    client.force_login(w["reviewer"])
    html = client.get(url).content.decode()
    assert reverse("goals:adjustment", args=[adjustment.pk, "pass"]) in html
    assert reverse("goals:adjustment", args=[adjustment.pk, "ratify"]) not in html
    client.post(reverse("goals:adjustment", args=[adjustment.pk, "pass"]))
    client.force_login(w["finance"])
    client.post(reverse("goals:adjustment", args=[adjustment.pk, "ratify"]))
    assert Adjustment.objects.get().status == A.APPROVED
    client.force_login(w["lead"])
    response = client.post(reverse("goals:adjustment", args=[adjustment.pk, "withdraw"]))
    assert response.status_code == 403
    assert client.post(reverse("goals:adjustment", args=[adjustment.pk, "nonsense"])).status_code == 404


def test_a_bad_date_is_refused_on_the_page(client, w):
    client.force_login(w["admin"])
    response = client.post(reverse("goals:adjust", args=[w["table"].pk]), {
        f"target_raw_{w['count'].pk}": ">=90人次", "reason": "任务量下调", "effective_from": "2026-13-45"}, follow=True)
    assert "不是有效日期" in response.content.decode() and not Adjustment.objects.exists()


@pytest.mark.parametrize(("values", "message"), [
    ({"weight": "NaN"}, "0 到 100 之间、最多两位小数"),
    ({"weight": "Infinity"}, "0 到 100 之间、最多两位小数"),
    ({"weight": "1e12"}, "0 到 100 之间、最多两位小数"),
    ({"weight": "-5"}, "0 到 100 之间、最多两位小数"),
    ({"weight": "12.345"}, "0 到 100 之间、最多两位小数"),
    ({"target_raw": ">=90人次\x00"}, "控制字符"),
    ({"target_raw": "≥" + "9" * 400}, "不能超过 300 个字"),
    ({"rule": "<script>"}, "赋分规则“<script>”无效"),
])
def test_hostile_rows_are_refused_in_chinese_and_nothing_is_proposed(w, values, message):
    with pytest.raises(ValidationError, match=message):
        adjustment_propose(w["table"], w["admin"], "原因", EFFECTIVE, {w["count"].pk: values})
    assert not Adjustment.objects.exists()


def test_a_hostile_reason_is_refused_and_nothing_is_proposed(w):
    rows = {w["count"].pk: {"target_raw": ">=90人次"}}
    with pytest.raises(ValidationError, match="控制字符"):
        adjustment_propose(w["table"], w["admin"], "原因\x00", EFFECTIVE, rows)
    with pytest.raises(ValidationError, match="不能超过 1000 个字"):
        adjustment_propose(w["table"], w["admin"], "长" * 1001, EFFECTIVE, rows)
    assert not Adjustment.objects.exists()
    adjustment = propose(w)
    adjustment_submit(adjustment, w["admin"])
    with pytest.raises(ValidationError, match="退回原因含有不可见的控制字符"):
        adjustment_return(adjustment, w["reviewer"], "请核实\x07")
    assert Adjustment.objects.get(pk=adjustment.pk).status == A.SUBMITTED
