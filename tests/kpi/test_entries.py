"""The rules an entered actual must meet (kpi.entries): the report page and the bulk import share them."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.entries import EntryError, check_entry, entry_mode, read_quantity
from kpi.lights import Light
from kpi.targets import parse_target


@pytest.mark.parametrize(("typed", "unit", "value", "noted"), [
    ("3.1", "万人", "3.1", False),
    ("3.1万", "万人", "3.1", True),  # the unit already counts in 万: read as 3.1, said in a note
    ("3.1万人", "万人", "3.1", False),
    ("31000人", "万人", "3.1", True),
    ("3.1万", "人", "31000", True),  # a 人 field: 31000
    ("3.1万人", "人", "31000", True),
    (" 3.1 万 ", "人", "31000", True),
    ("1.2亿", "万元", "12000", True),
    ("500元", "万元", "0.05", True),
    ("95%", "%", "95", False),
    ("９５．５", "%", "95.5", False),  # full-width digits
    ("1,234.5", "元", "1234.5", False),
    ("12个", "个", "12", False),
    ("-3", "个", "-3", False),  # read; check_entry refuses it
])
def test_read_quantity(typed, unit, value, noted):
    reading = read_quantity(typed, unit)
    assert reading.value == Decimal(value)
    assert bool(reading.note) == noted
    if noted:
        assert typed.strip() in reading.note and unit in reading.note


@pytest.mark.parametrize(("typed", "unit", "message"), [
    ("八十", "人次", "不是有效的数字"),
    ("5%", "人", "带有百分号"),
    ("0.5元", "万元", "超过 4 位小数"),
    ("1" * 30, "个", "过大"),
    ("9.5万", "%", "不是有效的数字"),
    ("", "人", "不是有效的数字"),
])
def test_read_quantity_refuses(typed, unit, message):
    with pytest.raises(EntryError, match=message) as refused:
        read_quantity(typed, unit)
    assert refused.value.field == "value"


@given(st.decimals(min_value=Decimal("0"), max_value=Decimal("999999"), places=2, allow_nan=False),
       st.sampled_from(["人", "万人", "个", "%", "万元", "元/人"]))
def test_a_plain_number_reads_as_typed(number, unit):
    reading = read_quantity(format(number, "f"), unit)
    assert reading.value == number and reading.note == ""


def checked(target_text, rule="按照完成比例赋分", unit=None, weight=Decimal("20"), cumulative=False, month=7, **values):
    target = parse_target(target_text)
    return check_entry(kind=target.kind.value, rule=rule, target=target, target_value=target.value, weight=weight,
                       unit=target.unit if unit is None else unit, cumulative=cumulative, month=month, **values)


def test_a_rate_above_100_or_below_0_is_refused_beside_the_field():
    assert "不能超过 100%" in checked(">=90%", value=Decimal("101")).errors["value"]
    assert "不能为负数" in checked(">=90%", value=Decimal("-1")).errors["value"]
    assert "不能超过 100%" in checked(">=90%", value=Decimal("95"), forecast=Decimal("120")).errors["forecast"]
    assert checked(">=90%", value=Decimal("100")).ok


def test_a_negative_count_is_refused():
    assert "不能为负数" in checked(">=100人次", value=Decimal("-5"), cumulative=True).errors["value"]


def test_an_off_track_value_needs_a_reason_and_its_category():
    check = checked(">=100人次", value=Decimal("30"), cumulative=True)  # 30 / (100 × 7/12) = 0.51 → red
    assert check.light == Light.RED
    assert set(check.errors) == {"deviation_reason", "deviation_category"}
    assert checked(">=100人次", value=Decimal("30"), cumulative=True, deviation_reason="经费晚到",
                   deviation_category="经费保障").ok


def test_nothing_else_without_the_actual():
    check = checked(">=90%", forecast=Decimal("95"))
    assert check.empty and "请先填写实际完成值" in check.errors["value"]
    assert checked(">=90%").ok and checked(">=90%").empty


def test_a_grade_needs_its_points_inside_the_band():
    assert "同时选择等级并填写得分" in checked("有效提升", rule="按评判等级赋分", grade="达成年度指标").errors["points"]
    check = checked("有效提升", rule="按评判等级赋分", grade="部分达成年度指标并具有一定效果", points=Decimal("19"))
    assert "超出等级" in check.errors["points"]


def test_rectification_needs_its_measures():
    check = checked(">=90%", value=Decimal("95"), needs_rectification=True)
    assert "整改措施" in check.errors["rectification_measures"]


@pytest.mark.parametrize(("target", "rule", "mode"), [
    (">=90%", "按照完成比例赋分", "number"), ("每月25日前", "按照完成比例赋分", "met"),
    (">=90%", "直接赋分", "met"), ("有效提升", "按评判等级赋分", "grade"), (">=3件", "按评判等级赋分", "grade"),
])
def test_entry_mode(target, rule, mode):
    assert entry_mode(parse_target(target).kind.value, rule) == mode
