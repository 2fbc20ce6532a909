"""What an entered actual must satisfy — on the report page and in a bulk import alike. Pure Python, no Django.

- `entry_mode(kind, rule)`: how an indicator's actual is entered: "number" (in the indicator's unit),
  "met" (达成 / 未达成: deadlines and 直接赋分) or "grade" (等级 + 得分: 按评判等级赋分 and 定性 targets);
- `read_quantity(text, unit)`: a typed number in the indicator's unit, as people type it: full-width digits,
  thousands separators, the unit written after it, a 万 or 亿 that the unit does or does not carry
  ("3.1万" in a 万人 field is 3.1; in a 人 field 31000, said in a note);
- `check_entry(...)`: the rules across fields: nothing else without the actual itself; a grade needs its
  points inside the band; what the engine refuses (under the table's scoring policy); a rate (%) between 0
  and 100, no negative quantity; a deviation reason and its category when the light is red or yellow; a
  deviation reason when the actual exceeds its target by more than the policy's `reason_over_target_percent`;
  measures when 整改 is needed;
- `check_execution(...)`: a budget execution figure needs a deviation reason when its 执行率 is below the
  policy's `reason_below_execution_rate`.

Messages are for the person who typed the value (Simplified Chinese); each names the field it belongs to.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from kpi import scoring
from kpi.formatting import tidy_decimal
from kpi.lights import Light, indicator_light
from kpi.targets import Kind

__all__ = ["EntryCheck", "EntryError", "Reading", "check_entry", "check_execution", "entry_mode", "read_quantity"]

OFF_TRACK = (Light.RED, Light.YELLOW)
# Targets an actual can exceed by a ratio (a range by its upper end).
_QUANTITY_KINDS = (Kind.POSITIVE, Kind.EQUALS, Kind.REVERSE, Kind.RANGE)
PERCENT_UNITS = ("%", "％")
# Multipliers people type after a number, and that units start with (万人, 万元, 亿元).
MULTIPLIERS = {"万": Decimal(10) ** 4, "亿": Decimal(10) ** 8}
MAX_QUANTITY = Decimal(10) ** 16  # what the database keeps (20 digits, 4 of them decimals)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")


class EntryError(ValueError):
    """A value that cannot be taken, with the field it belongs to."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Reading:
    """A number read from what was typed; `note` says how, when it was not read exactly as typed."""

    value: Decimal
    note: str = ""


@dataclass
class EntryCheck:
    """The outcome of `check_entry`: per field, what is wrong; the entry's light; the engine's score."""

    errors: dict[str, str] = field(default_factory=dict)
    light: Light = Light.NONE
    score: scoring.IndicatorScore | None = None
    empty: bool = True  # nothing entered for the indicator: it is not reported this time

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, message)


def entry_mode(kind: str, rule: str) -> str:
    """"met" for deadlines and 直接赋分, "grade" for 按评判等级赋分 and 定性 targets, else "number"."""
    if kind == Kind.DEADLINE or rule == scoring.Rule.DIRECT:
        return "met"
    if rule == scoring.Rule.GRADED or kind == Kind.QUALITATIVE:
        return "grade"
    return "number"


def _multiplier_of(unit: str) -> tuple[Decimal, str]:
    """(the multiplier a unit starts with, the rest): 万人 → (10000, 人), 亿元 → (10^8, 元), 人 → (1, 人)."""
    for word, factor in MULTIPLIERS.items():
        if unit.startswith(word) and len(unit) > len(word):
            return factor, unit[len(word):]
    return Decimal(1), unit


def _shown(value: Decimal) -> str:
    return format(tidy_decimal(value), "f")


def read_quantity(text: str, unit: str, *, label: str = "实际完成值") -> Reading:
    """Read a typed number in `unit` (see the module docstring); EntryError("value", …) when it is none."""
    typed = (text or "").strip()
    unit = unicodedata.normalize("NFKC", (unit or "").strip())
    cleaned = _THOUSANDS.sub("", re.sub(r"\s+", "", unicodedata.normalize("NFKC", typed)))
    hint = f"（计量单位：{unit}）" if unit else ""
    is_percent = unit in PERCENT_UNITS
    unit_factor, base_unit = _multiplier_of(unit)
    in_base_units = False  # "31000人" typed in a 万人 field
    if is_percent:
        cleaned = cleaned.removesuffix("%")
    elif cleaned.endswith("%"):
        where = f"，但计量单位是“{unit}”" if unit else ""
        raise EntryError("value", f"{label}“{typed}”带有百分号{where}：请只填数字{hint}。")
    elif unit and cleaned.endswith(unit):
        cleaned = cleaned[: -len(unit)]
    elif unit_factor != 1 and cleaned.endswith(base_unit):
        cleaned, in_base_units = cleaned[: -len(base_unit)], True
    typed_factor = Decimal(1)  # a 万 or 亿 typed after the number
    word = cleaned[-1:]
    if not is_percent and word in MULTIPLIERS:
        cleaned, typed_factor = cleaned[:-1], MULTIPLIERS[word]
    if not _NUMBER.fullmatch(cleaned):
        raise EntryError("value", f"{label}“{typed}”不是有效的数字，请输入数字{hint}。")
    number = Decimal(cleaned)
    converted = in_base_units or typed_factor != 1
    if converted:
        number = tidy_decimal(number * typed_factor / unit_factor)
    if abs(number) >= MAX_QUANTITY:
        raise EntryError("value", f"{label}“{typed}”过大，请核对{hint}。")
    if number.as_tuple().exponent < -4:
        raise EntryError("value", f"{label}“{typed}”{'换算后' if converted else ''}超过 4 位小数，请核对{hint}。")
    return Reading(number, f"“{typed}”已按 {_shown(number)}{unit} 读取。" if converted else "")


def check_entry(
    *,
    kind: str,
    rule: str,
    target,
    target_value: Decimal | None,
    weight: Decimal,
    unit: str,
    cumulative: bool,
    month: int,
    value: Decimal | None = None,
    met: bool | None = None,
    grade: str = "",
    points: Decimal | None = None,
    forecast: Decimal | None = None,
    likelihood: str = "",
    deviation_category: str = "",
    deviation_reason: str = "",
    needs_rectification: bool | None = None,
    rectification_measures: str = "",
    policy: scoring.Policy = scoring.DEFAULT_POLICY,
) -> EntryCheck:
    """Check one indicator's entry (the shape of kpi.reports.services.actual_record's arguments) against
    the rules of the module docstring, under the table's scoring policy. Fields: value, met, grade, points,
    forecast, deviation_reason, deviation_category, rectification_measures."""
    check = EntryCheck()
    mode = entry_mode(kind, rule)
    main_field = {"number": "value", "met": "met", "grade": "grade"}[mode]
    main = {"number": value, "met": met, "grade": grade or points}[mode]
    others = (forecast, likelihood, deviation_category, deviation_reason, needs_rectification, rectification_measures)
    check.empty = main is None or main == ""
    if check.empty:
        if any(v not in (None, "") for v in others):
            check.add(main_field, "请先填写实际完成值，再填写预测或偏差原因。")
        return check
    if mode == "grade" and (not grade or points is None):
        check.add("grade" if not grade else "points", "按评判等级赋分需同时选择等级并填写得分。")
        return check
    for name, number in (("value", value), ("forecast", forecast)):
        problem = _quantity_problem(number, unit, "实际完成值" if name == "value" else "全年预计完成值")
        if problem:
            check.add(name, problem)
    if "value" in check.errors:
        return check
    try:
        check.score = scoring.score_indicator(
            rule=rule, target=target, actual=value if value is not None else met, weight=weight,
            grade=grade or None, points=points, policy=policy,
        )
    except scoring.ScoringError as error:
        check.add({"number": "value", "met": "met", "grade": "points"}[mode], str(error))
        return check
    check.light = indicator_light(
        kind=kind, cumulative=cumulative, target_value=target_value, actual=value, met=met, grade=grade,
        score_ratio=check.score.ratio, month=month,
    )
    if needs_rectification and not rectification_measures:
        check.add("rectification_measures", "需要整改时请填写整改措施。")
    if check.light in OFF_TRACK:
        if not deviation_reason:
            check.add("deviation_reason", f"该指标进度偏离目标（{check.light.label}），请填写偏差原因。")
        if not deviation_category:
            check.add("deviation_category", "请选择偏差原因类别。")
    over = _over_target_text(kind, target, value, unit, policy)
    if over and not deviation_reason:
        check.add("deviation_reason", over)
    return check


def _over_target_text(kind: str, target, value: Decimal | None, unit: str, policy: scoring.Policy) -> str:
    """Why a reason is needed when the actual exceeds its target by more than the policy allows, else ""."""
    percent = policy.reason_over_target_percent
    if percent is None or value is None:
        return ""
    reference = target.upper if kind == Kind.RANGE else target.value
    if kind not in _QUANTITY_KINDS or reference is None or reference <= 0:
        return ""
    if value * 100 <= reference * percent:
        return ""
    return (f"实际完成值 {_shown(value)}{unit} 超过指标值 {_shown(reference)}{unit} 的 {_shown(percent)}%，"
            f"按评分政策“{policy.name}”须填写偏差原因。")


def check_execution(
    *, budget: Decimal | None, executed: Decimal | None, deviation_reason: str = "",
    policy: scoring.Policy = scoring.DEFAULT_POLICY,
) -> EntryCheck:
    """A budget execution figure against the policy: a deviation reason (field deviation_reason) when the
    执行率 (executed / 全年预算数) is below `reason_below_execution_rate`. An undefined rate (a budget of 0)
    needs none."""
    check = EntryCheck(empty=executed is None)
    threshold = policy.reason_below_execution_rate
    if threshold is None or executed is None or deviation_reason.strip():
        return check
    rate = scoring.score_execution(budget=budget, executed=executed).rate
    if rate is not None and rate * 100 < threshold:
        check.add("deviation_reason", f"预算执行率 {_shown(rate * 100)}% 低于评分政策“{policy.name}”规定的 "
                                      f"{_shown(threshold)}%，请填写执行率偏差原因。")
    return check


def _quantity_problem(number: Decimal | None, unit: str, label: str) -> str:
    """What cannot be true of a quantity: below 0, or a rate (%) above 100."""
    if number is None:
        return ""
    if number < 0:
        return f"{label}不能为负数（填写的是 {_shown(number)}{unit}）。"
    if unit in PERCENT_UNITS and number > 100:
        return f"{label}是百分比，不能超过 100%（填写的是 {_shown(number)}%）。"
    return ""
