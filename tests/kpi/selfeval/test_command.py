"""selfeval_report: the fixed command-line contract (JSON form, formats, Chinese errors)."""
import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kpi.reports.services import actual_record
from tests.factories import UnitFactory

from .conftest import expected_scores

pytestmark = pytest.mark.django_db

DECIMAL_2 = re.compile(r"^-?\d+\.\d{2}$")
DECIMAL_4 = re.compile(r"^-?\d+\.\d{4}$")
ENTRY_KEYS = {"project", "execution", "indicators", "total", "grade", "missing"}
EXECUTION_KEYS = {"budget", "executed", "rate", "score"}
INDICATOR_KEYS = {"level1", "level2", "name", "target", "actual", "weight", "score", "explanation"}


def run_json(*args) -> dict:
    out = StringIO()
    call_command("selfeval_report", *args, "--format", "json", "--out", "-", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def check_entry(entry: dict) -> None:
    """Exactly the documented keys, and the documented types: decimals as strings, missing as null."""
    assert set(entry) == ENTRY_KEYS
    assert entry["project"] is None or isinstance(entry["project"], str)
    assert set(entry["execution"]) == EXECUTION_KEYS
    for key, pattern in (("budget", DECIMAL_2), ("executed", DECIMAL_2), ("rate", DECIMAL_4), ("score", DECIMAL_2)):
        value = entry["execution"][key]
        assert value is None or pattern.match(value), (key, value)
    assert isinstance(entry["indicators"], list)
    for row in entry["indicators"]:
        assert set(row) == INDICATOR_KEYS
        for key in ("level1", "level2", "name", "target", "explanation"):
            assert isinstance(row[key], str), key
        assert row["actual"] is None or isinstance(row["actual"], str)
        assert DECIMAL_2.match(row["weight"])
        assert row["score"] is None or DECIMAL_2.match(row["score"])
    assert entry["total"] is None or DECIMAL_2.match(entry["total"])
    assert entry["grade"] is None or isinstance(entry["grade"], str)
    assert isinstance(entry["missing"], list) and all(isinstance(item, str) for item in entry["missing"])


def test_json_has_exactly_the_documented_keys_and_types(world):
    data = run_json("--unit", "SE-UNIT", "--year", "2026")
    assert set(data) == {"unit", "year", "projects", "unit_table"}
    assert data["unit"] == "测试市就业服务中心" and data["year"] == 2026
    assert data["unit_table"] is None  # the unit has no 部门整体 table
    assert len(data["projects"]) == 1
    for entry in data["projects"]:
        check_entry(entry)


def test_json_values_are_the_engines(world):
    expected = expected_scores(world.indicators)
    entry, = run_json("--unit", "测试市就业服务中心", "--year", "2026")["projects"]  # by name too
    assert entry["project"] == "职业技能培训补贴项目"
    assert entry["execution"] == {"budget": "200.00", "executed": "150.00", "rate": "0.7500",
                                  "score": str(expected.execution.points)}
    assert [row["score"] for row in entry["indicators"]] == [
        None if p is None else str(p) for p in expected.points
    ]
    assert [row["weight"] for row in entry["indicators"]] == ["30.00", "20.00", "15.00", "10.00", "10.00", "5.00"]
    assert entry["total"] == str(expected.total.total) and entry["grade"] == expected.grade
    satisfaction = entry["indicators"][4]
    assert satisfaction["actual"] is None and satisfaction["score"] is None  # missing: null, never 0
    assert "指标“参训人员满意度”：缺少实际完成值（未填报）" in entry["missing"]
    assert entry["indicators"][5]["actual"] == "不适用"
    first = entry["indicators"][0]
    assert {k: v for k, v in first.items() if k != "explanation"} == {
        "level1": "产出指标", "level2": "数量指标", "name": "培训人次", "target": ">=100人次", "actual": "80人次",
        "weight": "30.00", "score": "24.00",
    }
    # the explanation is the engine's own one-line 计算说明 of that score
    assert first["explanation"] == expected.explanations[0]


def test_unit_table_entry_has_the_same_shape(world):
    from decimal import Decimal

    from tests.factories import approve_reports, table_with_indicators

    from .conftest import JULY

    table, indicators = table_with_indicators(unit=world.unit, year=2026, rows=[
        ("履职效能", "数量指标", "职业介绍人次", ">=1万人次", Decimal("90")),
    ])
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("1.2"))
    approve_reports(table)
    data = run_json("--unit", "SE-UNIT", "--year", "2026")
    check_entry(data["unit_table"])
    assert data["unit_table"]["project"] is None
    assert data["unit_table"]["execution"] == {"budget": None, "executed": None, "rate": None, "score": None}
    assert "未登记部门年度预算（年初预算数、全年预算数）" in data["unit_table"]["missing"]


@pytest.mark.parametrize("fmt, magic", [("xlsx", b"PK\x03\x04"), ("pdf", b"%PDF-")])
def test_xlsx_and_pdf_are_written_to_the_path(world, tmp_path, fmt, magic):
    out = tmp_path / f"report.{fmt}"
    err = StringIO()
    call_command("selfeval_report", "--unit", "SE-UNIT", "--year", "2026", "--format", fmt, "--out", str(out),
                 stdout=StringIO(), stderr=err)
    assert out.read_bytes().startswith(magic)
    assert "已生成" in err.getvalue()


@pytest.mark.parametrize("args, message", [
    (["--unit", "NOPE", "--year", "2026", "--format", "json"], "找不到预算单位“NOPE”"),
    (["--unit", "SE-UNIT", "--year", "2025", "--format", "json"], "2025 年度没有绩效目标表"),
    (["--unit", "SE-UNIT", "--year", "2026", "--format", "docx"], "不支持的格式“docx”"),
])
def test_clear_chinese_errors(world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("selfeval_report", *args, "--out", "-", stdout=StringIO())


def test_binary_formats_refuse_stdout(world):
    with pytest.raises(CommandError, match="不能输出到标准输出"):
        call_command("selfeval_report", "--unit", "SE-UNIT", "--year", "2026", "--format", "pdf", "--out", "-",
                     stdout=StringIO())


def test_a_unit_with_no_tables_at_all(world):
    unit = UnitFactory()
    with pytest.raises(CommandError, match="没有绩效目标表"):
        call_command("selfeval_report", "--unit", unit.code, "--year", "2026", "--format", "json", "--out", "-",
                     stdout=StringIO())
