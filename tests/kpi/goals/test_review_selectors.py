"""指标质量审核 from the database (kpi.goals.review_selectors) and `manage.py review_tables`: the facts each
rule needs (policy figure, last year's actual, the library's kind), in a fixed number of queries."""
import datetime as dt
import json
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kpi.goals.review_selectors import table_findings, unit_findings
from kpi.library.keys import library_key
from kpi.models import GoalTable, Indicator, LibraryEntry
from tests.factories import (
    ActualFactory,
    ProjectFactory,
    ScoringPolicyFactory,
    UnitFactory,
    approve_reports,
    table_with_indicators,
)

pytestmark = pytest.mark.django_db

CLEAN = [  # 90 points, every 一级 group, no finding
    ("产出指标", "数量指标", "发放补助单位数量", ">=2 个", D(30)),
    ("产出指标", "质量指标", "补助发放准确率", "=100%", D(20)),
    ("成本指标", "经济成本指标", "路桥二处补助成本", "<=9 万元", D(10)),
    ("效益指标", "社会效益指标", "提高退休人员生活质量", "有效提高", D(20)),
    ("满意度指标", "满意度指标", "享受待遇人员满意度", ">=99%", D(10)),
]


def codes(findings):
    return [(f.line, f.code) for f in findings]


def test_a_clean_table_has_no_findings():
    table, _ = table_with_indicators(rows=CLEAN)
    assert table_findings(table) == []


def test_findings_name_the_project_and_the_row_by_order():
    project = ProjectFactory(name="社保宣传项目")
    rows = CLEAN[:4] + [("满意度指标", "满意度指标", "享受待遇人员满意度", ">=75%", D(10))]
    table, indicators = table_with_indicators(project, rows)
    # Lines follow `order`, not the primary key: move the last row to the top.
    Indicator.objects.filter(pk=indicators[-1].pk).update(order=0)
    [finding] = table_findings(table)
    assert (finding.table, finding.indicator, finding.line, finding.code) == (
        "社保宣传项目", "享受待遇人员满意度", 1, "satisfaction_low")


def test_the_unit_table_is_named_by_the_unit_and_reviewed_as_a_unit_table():
    unit = UnitFactory(name="昌吉回族自治州社会保险中心")
    rows = [
        ("履职效能", "数量指标", "对县市社保业务工作开展审计次数", "=1 次", D(50)),
        ("履职效能", "质量指标", "基本养老保险参保率", ">=95%", D(40)),
    ]
    table, _ = table_with_indicators(rows=rows, unit=unit)
    [finding] = table_findings(table)
    assert (finding.table, finding.code, finding.severity) == ("昌吉回族自治州社会保险中心", "level1_missing", "must")
    assert finding.message == "缺少满意度一级指标（服务对象满意度）。"


def test_the_weight_figure_is_the_policys():
    table, _ = table_with_indicators(rows=CLEAN)
    policy = ScoringPolicyFactory(execution_weight=D(20))
    GoalTable.objects.filter(pk=table.pk).update(policy=policy)
    table.refresh_from_db()
    [finding] = table_findings(table)
    assert finding.code == "weight_sum"
    assert "应为 80（预算执行率另占 20 分）" in finding.message


def copied_from(indicator, previous):
    # Rollover (kpi.goals.rollover) links a copied row to last year's; no service sets it alone.
    Indicator.objects.filter(pk=indicator.pk).update(previous=previous)


def test_last_years_final_approved_actual_of_the_previous_indicator():
    last_table, [last] = table_with_indicators(
        rows=[("产出指标", "数量指标", "补贴发放人数", ">=500人次", D(90))], year=2025,
        project=ProjectFactory(year=2025))
    ActualFactory(indicator=last, as_of=dt.date(2025, 6, 30), value=D(400))
    ActualFactory(indicator=last, as_of=dt.date(2025, 12, 31), value=D(580))
    approve_reports(last_table)
    ActualFactory(indicator=last, as_of=dt.date(2025, 12, 31), value=D(999))  # a draft correction: not final
    rows = [("产出指标", "数量指标", "补贴发放人数", "> =576 人次", D(30))] + CLEAN[1:]
    table, indicators = table_with_indicators(rows=rows)
    copied_from(indicators[0], last)
    [finding] = table_findings(table)
    assert (finding.line, finding.code) == (1, "below_last_year")
    assert "低于上年完成值 580人次" in finding.message


def test_the_previous_actual_is_converted_to_the_targets_unit():
    last_table, [last] = table_with_indicators(
        rows=[("产出指标", "数量指标", "发放差额待遇人次数", ">=1.5万人次", D(90))], year=2025,
        project=ProjectFactory(year=2025))
    ActualFactory(indicator=last, as_of=dt.date(2025, 12, 31), value=D("1.70"))
    approve_reports(last_table)
    rows = [("产出指标", "数量指标", "发放差额待遇人次数", ">=5000 人次", D(30))] + CLEAN[1:]
    table, indicators = table_with_indicators(rows=rows)
    copied_from(indicators[0], last)
    assert codes(table_findings(table)) == [(1, "below_last_year")]


def test_last_year_text_when_there_is_no_previous_actual():
    # 2025 Urumqi: "发放离休干部人数 >=83人", 上年完成值 "87人"; a text that is no number counts for nothing.
    table, indicators = table_with_indicators(rows=[("产出指标", "数量指标", "发放离休干部人数", ">=83人", D(30))]
                                              + CLEAN[1:])
    Indicator.objects.filter(pk=indicators[0].pk).update(last_year="87人")
    assert codes(table_findings(table)) == [(1, "below_last_year")]
    Indicator.objects.filter(pk=indicators[0].pk).update(last_year="87人次")  # another unit: not compared
    assert table_findings(table) == []
    Indicator.objects.filter(pk=indicators[3].pk).update(last_year="持续提高")
    assert table_findings(table) == []
    # A reverse target above last year's "=4632 元" (in 万元: 0.4632).
    Indicator.objects.filter(pk=indicators[2].pk).update(last_year="=4632 元")
    assert codes(table_findings(table)) == [(3, "above_last_year")]


def test_unapproved_previous_actual_falls_back_to_the_text():
    last_table, [last] = table_with_indicators(
        rows=[("产出指标", "数量指标", "补贴发放人数", ">=500人次", D(90))], year=2025,
        project=ProjectFactory(year=2025))
    ActualFactory(indicator=last, as_of=dt.date(2025, 12, 31), value=D(580))  # draft only
    table, indicators = table_with_indicators(rows=[("产出指标", "数量指标", "补贴发放人数", ">=576人次", D(30))]
                                              + CLEAN[1:])
    copied_from(indicators[0], last)
    assert table_findings(table) == []
    Indicator.objects.filter(pk=indicators[0].pk).update(last_year="600人次")
    assert codes(table_findings(table)) == [(1, "below_last_year")]


def library_entry(level2, name, kind, **extra):
    return LibraryEntry.objects.create(key=library_key(level2, name), level1="效益指标", level2=level2, name=name,
                                       target_kind=kind, **extra)


def test_a_qualitative_target_where_the_library_entry_is_quantitative_following_merges():
    canonical = library_entry("社会效益指标", "社会保险政策知晓率", "positive")
    library_entry("社会效益指标", "提升社会保险政策知晓率", "qualitative", merged_into=canonical)
    rows = CLEAN[:3] + [("效益指标", "社会效益指标", "提升社会保险政策知晓率", "有效提升", D(20))] + CLEAN[4:]
    table, _ = table_with_indicators(rows=rows)
    assert codes(table_findings(table)) == [(4, "qualitative_vs_library")]
    LibraryEntry.objects.filter(pk=canonical.pk).update(target_kind="qualitative")
    assert table_findings(table) == []


def unit_with_tables():
    unit = UnitFactory(code="DEMO-RV", name="示范市社会保险服务中心")
    table_with_indicators(unit=unit, rows=[
        ("履职效能", "数量指标", "经办业务笔数", ">=100笔", D(80)),
        ("服务对象满意度", "满意度指标", "参保群众满意度", ">=99%", D(10)),
    ])
    table_with_indicators(ProjectFactory(unit=unit, name="B 项目"), CLEAN[:4] + [
        ("满意度指标", "满意度指标", "享受待遇人员满意度", "99%", D(10))])
    table_with_indicators(ProjectFactory(unit=unit, name="A 项目"), CLEAN[:4])  # 80 points, no 满意度
    return unit


def test_unit_findings_cover_every_table_unit_table_first():
    unit = unit_with_tables()
    findings = unit_findings(unit.pk, 2026)
    assert [(f.table, f.line, f.code) for f in findings] == [
        ("A 项目", None, "weight_sum"), ("A 项目", None, "level1_missing"),
        ("B 项目", 5, "target_no_comparator"),
    ]
    assert findings[1].message == "缺少一级指标“满意度指标”。"
    assert unit_findings(unit.pk, 2025) == []


def many_rows(n):
    return [("产出指标", "数量指标", f"指标{i}", f">={i + 1}人次", D(1)) for i in range(n)]


@pytest.mark.parametrize("n", [3, 12])
def test_table_findings_query_count_does_not_grow_with_rows(n, django_assert_num_queries):
    last_table, lasts = table_with_indicators(rows=many_rows(n), year=2025, project=ProjectFactory(year=2025))
    for last in lasts:
        ActualFactory(indicator=last, as_of=dt.date(2025, 12, 31), value=D(3))
    approve_reports(last_table)
    table, indicators = table_with_indicators(rows=many_rows(n))
    for indicator, last in zip(indicators, lasts, strict=True):
        copied_from(indicator, last)
    library_entry("数量指标", "指标0", "positive")
    table = GoalTable.objects.select_related("project", "unit").get(pk=table.pk)
    # policies, indicators (with the previous rows), final actuals, library entries
    with django_assert_num_queries(4):
        findings = table_findings(table)
    assert ("weight_sum", "level1_missing") == tuple(f.code for f in findings[:2])
    assert (1, "below_last_year") in codes(findings)  # >=1人次 against 3


@pytest.mark.parametrize("extra_tables", [0, 3])
def test_unit_findings_query_count_does_not_grow_with_tables(extra_tables, django_assert_num_queries):
    unit = unit_with_tables()
    for i in range(extra_tables):
        table_with_indicators(ProjectFactory(unit=unit, name=f"丙项目{i}"), CLEAN)
    table_with_indicators(unit=UnitFactory(), rows=CLEAN)  # another unit's: not read
    library_entry("数量指标", "发放补助单位数量", "positive")
    # tables, policies, indicators, library entries (no previous rows: no actuals query)
    with django_assert_num_queries(4):
        findings = unit_findings(unit.pk, 2026)
    assert {f.table for f in findings} == {"A 项目", "B 项目"}


# --- manage.py review_tables ---------------------------------------------------------------------------

def run(*args):
    out = StringIO()
    call_command("review_tables", *args, stdout=out)
    return out.getvalue()


def test_command_json_prints_exactly_the_contract():
    unit_with_tables()
    for who in ("DEMO-RV", "示范市社会保险服务中心"):
        data = json.loads(run("--unit", who, "--year", "2026", "--json"))
        assert [sorted(item) for item in data] == [["code", "indicator", "line", "message", "severity", "table"]] * 3
        assert data[2] == {
            "table": "B 项目", "indicator": "享受待遇人员满意度", "line": 5, "severity": "must",
            "code": "target_no_comparator",
            "message": "第 5 行“享受待遇人员满意度”的指标值“99%”只有数值，没有比较符，请写明“≥”“≤”或“=”。",
        }
        assert data[0]["indicator"] is None and data[0]["line"] is None
    assert "\\u" not in run("--unit", "DEMO-RV", "--year", "2026", "--json")  # ensure_ascii=False


def test_command_json_of_clean_tables_is_an_empty_list():
    table, _ = table_with_indicators(rows=CLEAN)
    assert json.loads(run("--unit", table.unit.code, "--year", "2026", "--json")) == []


def test_command_readable_list_in_chinese():
    unit_with_tables()
    run_output = run("--unit", "DEMO-RV", "--year", "2026")
    assert "示范市社会保险服务中心 2026 年度绩效目标表指标质量审核：目标表 3 张，必须修改 3 项，建议修改 0 项。" in run_output
    assert "【示范市社会保险服务中心（部门整体）】未发现问题。" in run_output
    assert "【A 项目】\n  [必须修改] 指标分值权重合计为 80，应为 90（预算执行率另占 10 分）。" in run_output
    assert "  [必须修改] 第 5 行“享受待遇人员满意度”的指标值“99%”只有数值" in run_output
    # 部门整体 first, then the projects by name
    assert run_output.index("（部门整体）】") < run_output.index("【A 项目】") < run_output.index("【B 项目】")


def test_command_unknown_unit_or_year_is_an_error_in_chinese():
    unit_with_tables()
    with pytest.raises(CommandError, match="找不到预算单位“NOPE”"):
        run("--unit", "NOPE", "--year", "2026", "--json")
    with pytest.raises(CommandError, match="没有 2030 年度的绩效目标表"):
        run("--unit", "DEMO-RV", "--year", "2030", "--json")


def test_command_on_an_imported_disclosure(seeds_dir):
    """The 2026 Changji disclosure as published: the review runs over every table it imports."""
    call_command("import_disclosure", str(seeds_dir / "disclosure-2026-changji-social-insurance-center.txt"),
                 stdout=StringIO())
    data = json.loads(run("--unit", "昌吉回族自治州社会保险中心", "--year", "2026", "--json"))
    tables = set(GoalTable.objects.filter(year=2026).values_list("project__name", flat=True))
    assert {item["table"] for item in data} <= {name or "昌吉回族自治州社会保险中心" for name in tables}
    assert all(item["severity"] in ("must", "should") for item in data)
    # 个人权益告知: "0.035元/条" is published without a comparator.
    assert any(item["code"] == "target_no_comparator" and "0.035元/条" in item["message"] for item in data)
