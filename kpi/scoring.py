"""评分引擎 — scoring one indicator, budget execution, a table total and its grade.

Pure Python: no Django imports. Implements docs/domain.md §3–§5 exactly:

- ``score_indicator``  one indicator under 按照完成比例赋分 / 直接赋分 / 按评判等级赋分 / 满意度赋分;
- ``score_execution``  预算执行率 and its points (10 by default, the policy's `execution_weight`);
- ``score_table``      the table total, rescaled when some indicators are not applicable, capped by the
                       policy's `execution_caps`;
- ``grade_for``        优 / 良 / 中 / 差 under the policy's grade bands;
- ``policy_name``      a policy's version as people name it (默认评分政策, “新疆2026（第2版）”).

Money and scores are ``Decimal``: floats are refused. Every points value is rounded to 2 places
(ROUND_HALF_UP), lies in ``[0, weight]``; ratios are rounded to 4 places and are not capped.

Decisions where the domain text leaves room (all covered by tests/kpi/test_scoring.py):

- Deadline targets are scored 直接赋分 whatever the rule; a numeric actual for a deadline (or a
  qualitative target under 直接赋分) means met when it is > 0 (1 = 是, 0 = 否).
- 满意度赋分 on a reverse target, a range or a target of 0 uses the 按完成比例赋分 formula for that kind;
  the satisfaction floor applies to positive, equals and range targets (higher is better).
- A negative target value cannot be scored automatically (actuals are never below 0): ScoringError.
- Graded points must lie in the chosen grade's band both as entered and once rounded to 2 places.
- The execution points use the rounded rate, so that 得分 = 10 × the 执行率 shown beside it.

Regional settings (a `Policy`, domain.md §3), all off by default:

- `overachievement_deduction`: a 按照完成比例赋分 score whose actual is flagged ``overachievement`` (above
  t × (1 + overachievement_flag)) loses that many points, never below 0; the flag stays.
- `whole_points`: indicator and execution points are rounded to whole points (ROUND_HALF_UP) after
  everything else, and never above the weight rounded down to a whole point; a graded score is checked
  against its band once rounded (7.5 in [6, 8) becomes 8: refused).
- `execution_caps`: ((执行率 below, in percent; highest total), …) — the strictest cap whose rate the
  table's 执行率 is below bounds the total; an undefined rate (budget 0, nothing executed yet) applies none.

The hot path (proportional positive / reverse) is kept lean: it is benchmarked at ≥ 200,000 calls/s.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import NamedTuple

from kpi.targets import Kind

__all__ = [
    "DEFAULT_POLICY",
    "EXECUTION_WEIGHT",
    "GradeBand",
    "ExecutionScore",
    "Grade",
    "IndicatorScore",
    "Policy",
    "ReverseFormula",
    "Rule",
    "ScoringError",
    "TableItem",
    "TableTotal",
    "default_rule_for",
    "grade_band",
    "grade_for",
    "policy_name",
    "policy_names",
    "score_execution",
    "score_indicator",
    "score_table",
]


class ScoringError(ValueError):
    """Input that cannot be scored; the message is for the person who entered it (Simplified Chinese)."""


class Rule(StrEnum):
    PROPORTIONAL = "按照完成比例赋分"
    DIRECT = "直接赋分"
    GRADED = "按评判等级赋分"
    SATISFACTION = "满意度赋分"


class Grade(StrEnum):
    ACHIEVED = "达成年度指标"  # [0.8w, w]
    PARTIAL = "部分达成年度指标并具有一定效果"  # [0.6w, 0.8w)
    FAILED = "未达成年度指标且效果较差"  # [0, 0.6w)


# 预算执行率 is worth 10 points of 100; the indicators share the other 90 (domain.md §1, §4).
EXECUTION_WEIGHT = Decimal(10)


class GradeBand(NamedTuple):
    """The points a grade allows for a weight: [low, high] when `closed`, else [low, high)."""

    low: Decimal
    high: Decimal
    closed: bool

    def text(self) -> str:
        """"[8.00, 10.00]" or "[6.00, 8.00)", as shown beside the input and in explanations."""
        return f"[{self.low.quantize(_CENT, _HALF_UP)}, {self.high.quantize(_CENT, _HALF_UP)}{']' if self.closed else ')'}"


class ReverseFormula(StrEnum):
    RATIO = "ratio"  # w × t / a
    LINEAR_TO_DOUBLE = "linear_to_double"  # w × (1 − (a − t) / t), 0 from a = 2t


@dataclass(frozen=True, slots=True)
class Policy:
    """Regional scoring choices (domain.md: ScoringPolicy). Values are in the target's unit."""

    version: str = "default"
    reverse_formula: ReverseFormula = ReverseFormula.RATIO
    satisfaction_floor: Decimal | None = None  # e.g. Decimal(60) for 60%
    overachievement_flag: Decimal = Decimal("0.2")
    grade_bands: tuple[tuple[Decimal, str], ...] = (
        (Decimal(90), "优"),
        (Decimal(80), "良"),
        (Decimal(60), "中"),
        (Decimal(0), "差"),
    )
    # 预算执行率分值: the indicators share 100 minus this.
    execution_weight: Decimal = EXECUTION_WEIGHT
    # 超额完成扣分: points off a proportional score flagged overachievement; 0 = flag only.
    overachievement_deduction: Decimal = Decimal(0)
    # 执行率封顶: ((rate below, in percent; highest total), …), e.g. ((Decimal(80), Decimal(89)), …).
    execution_caps: tuple[tuple[Decimal, Decimal], ...] = ()
    whole_points: bool = False  # 按整数计分
    # 须说明原因: 执行率 below this percent (e.g. 90), an actual above this percent of its target (e.g. 130).
    reason_below_execution_rate: Decimal | None = None
    reason_over_target_percent: Decimal | None = None

    @property
    def name(self) -> str:
        """The policy by its Chinese name: 默认评分政策, “新疆2026（第2版）”."""
        return policy_name(self.version)

    @property
    def indicator_weight_total(self) -> Decimal:
        """What the indicators of a table share: 100 − the execution weight (90 by default)."""
        return Decimal(100) - self.execution_weight


DEFAULT_POLICY = Policy()
DEFAULT_POLICY_NAME = "默认评分政策"


def policy_name(version: str) -> str:
    """A scoring policy's version as people name it: 默认评分政策 for the built-in one, “名称（第2版）” for a
    ScoringPolicy's "名称@v2" (kpi.models.ScoringPolicy.as_policy)."""
    if not version or version == DEFAULT_POLICY.version:
        return DEFAULT_POLICY_NAME
    name, marker, number = version.rpartition("@v")
    if marker and name and number.isdigit():
        return f"{name}（第{number}版）"
    return version


def policy_names(versions) -> str:
    """Several versions ("default、名称@v2", or an iterable of them) by their Chinese names, each once; "" for none."""
    if isinstance(versions, str):
        versions = versions.split("、")
    return "、".join(dict.fromkeys(policy_name(v) for v in versions or () if v))


class IndicatorScore(NamedTuple):
    points: Decimal
    ratio: Decimal | None
    explanation: str
    flags: tuple[str, ...]


class ExecutionScore(NamedTuple):
    rate: Decimal | None  # a fraction: 0.9321 = 93.21 %; None when the budget is 0 (undefined)
    points: Decimal | None


class TableItem(NamedTuple):
    weight: Decimal
    points: Decimal | None  # None: no score yet (missing)
    not_applicable: bool = False


class TableTotal(NamedTuple):
    total: Decimal
    indicator_points: Decimal
    execution_points: Decimal | None
    scale: Decimal
    missing: int
    cap: Decimal | None = None  # the highest total the 执行率 allowed, when a cap applied
    explanation: str = ""  # which cap applied and how ("" when none did)


# --- constants ------------------------------------------------------------------------------------

_CENT = Decimal("0.01")
_BASIS = Decimal("0.0001")
_ZERO = Decimal(0)
_ONE = Decimal(1)
_TWO = Decimal(2)
_HALF_UP = ROUND_HALF_UP
_DOWN = ROUND_DOWN
_ZERO_POINTS = Decimal("0.00")
_RATIO_ONE = Decimal("1.0000")
_RATIO_ZERO = Decimal("0.0000")
_tuple_new = tuple.__new__

_PROPORTIONAL = Rule.PROPORTIONAL
_DIRECT = Rule.DIRECT
_GRADED = Rule.GRADED
_SATISFACTION = Rule.SATISFACTION
_RULES: dict[str, Rule] = {r.value: r for r in Rule}
_GRADES: dict[str, Grade] = {g.value: g for g in Grade}

_POS = Kind.POSITIVE
_REV = Kind.REVERSE
_EQ = Kind.EQUALS
_RANGE = Kind.RANGE
_DEADLINE = Kind.DEADLINE
_QUAL = Kind.QUALITATIVE
_UNKNOWN = Kind.UNKNOWN
_KINDS: dict[str, Kind] = {k.value: k for k in Kind}
_SYMBOL = {_POS: "≥", _REV: "≤", _EQ: "="}

_RATIO_FORMULA = ReverseFormula.RATIO
_LINEAR_FORMULA = ReverseFormula.LINEAR_TO_DOUBLE
_NO_FLAGS: tuple[str, ...] = ()
_NEGATIVE = ("negative_actual",)


def _err_rule(rule: object) -> ScoringError:
    allowed = " / ".join(r.value for r in Rule)
    return ScoringError(f"未知的指标赋分规则“{rule}”，应为以下之一：{allowed}。")


# --- input checks (slow paths) --------------------------------------------------------------------

def _checked_weight(weight: object) -> Decimal:
    """The weight as a non-negative finite Decimal (positive zero for 0 and -0), else ScoringError."""
    if isinstance(weight, bool) or not isinstance(weight, (Decimal, int)):
        if isinstance(weight, float):
            raise ScoringError(f"分值权重必须是精确数值（Decimal 或整数），不能是浮点数：{weight}。")
        raise ScoringError(f"分值权重“{weight}”不是有效的数值。")
    value = Decimal(weight)
    if not value.is_finite():
        raise ScoringError(f"分值权重“{weight}”不是有效的数值。")
    if value < 0:
        raise ScoringError(f"分值权重不能为负数：{weight}。")
    return value if value > 0 else _ZERO


def _checked_number(value: object, field: str) -> Decimal:
    """A finite Decimal from a Decimal or an int (not a bool, not a float), else ScoringError."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        if isinstance(value, float):
            raise ScoringError(f"{field}必须是精确数值（Decimal 或整数），不能是浮点数：{value}。")
        raise ScoringError(f"{field}“{value}”不是有效的数值。")
    number = Decimal(value)
    if not number.is_finite():
        raise ScoringError(f"{field}“{value}”不是有效的数值。")
    return number


def _numeric_actual(actual: object, rule: Rule, target) -> tuple[Decimal, str, tuple[str, ...]]:
    """Slow path for the actual of a numeric rule: (value ≥ 0, how it is shown before the unit, flags)."""
    if actual is None:
        raise ScoringError("缺少实际完成值。")
    if isinstance(actual, bool):
        raise ScoringError(f"“{rule.value}”需要数值型的实际完成值（与指标值同一计量单位），不能只填 是/否。")
    value = _checked_number(actual, "实际完成值")
    if value < 0:
        return _ZERO, f"{value}{_unit(target)}（负数按 0 计）→ 0", _NEGATIVE
    if value == 0:
        return _ZERO, str(value), _NO_FLAGS
    return value, str(value), _NO_FLAGS


def _full(weight: Decimal, q: Decimal = _CENT) -> Decimal:
    """Full marks, 2 places (whole points when q is 1), never above the weight."""
    if q is _CENT:
        return weight.quantize(_CENT, _DOWN)
    return weight.quantize(q, _DOWN).quantize(_CENT)


def _cap(points: Decimal, weight: Decimal, q: Decimal = _CENT) -> Decimal:
    """Points rounded to q (2 places, or whole points when q is 1), shown with 2 places, within [0, weight]."""
    points = points.quantize(q, _HALF_UP)
    if points > weight:
        return _full(weight, q)
    if points <= 0:
        return _ZERO_POINTS
    return points if q is _CENT else points.quantize(_CENT)


def _plain(value: Decimal) -> str:
    """A number without trailing zeros: 2, 2.5, 80 (not 2.00, 8E+1)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent_of(fraction: Decimal) -> str:
    """0.2 → "20%"."""
    return f"{_plain(fraction * 100)}%"


def _unit(target) -> str:
    unit = target.unit
    return " " + unit if unit else ""


def _unknown_target(target, rule: Rule) -> ScoringError:
    return ScoringError(
        f"指标值无法识别（“{target.raw}”），不能按“{rule.value}”自动计分：请先修正指标值，或改用按评判等级赋分。"
    )


def _target_value(target, rule: Rule) -> Decimal:
    value = target.value
    if value is None:
        raise _unknown_target(target, rule)
    if value < 0:
        raise ScoringError(f"指标值为负数（“{target.raw}”），不能自动计分：请改用直接赋分或按评判等级赋分。")
    return value


def _kind_of(target) -> Kind:
    kind = target.kind
    if kind.__class__ is Kind:
        return kind
    found = _KINDS.get(kind)
    if found is None:
        raise ScoringError(f"指标值类型“{kind}”无法识别。")
    return found


# --- one indicator --------------------------------------------------------------------------------

def default_rule_for(target) -> Rule:
    """The rule a table without a 指标赋分规则 column uses: graded for 定性, direct for deadlines."""
    kind = getattr(target, "kind", target)
    if kind == _QUAL:
        return _GRADED
    if kind == _DEADLINE:
        return _DIRECT
    return _PROPORTIONAL


def score_indicator(*, rule, target, actual, weight, policy=DEFAULT_POLICY, grade=None, points=None) -> IndicatorScore:
    """Score one indicator (domain.md §3) under the policy. Raises ScoringError, in Chinese, on input it cannot score."""
    if policy.whole_points:
        result = _score_indicator(rule, target, actual, weight, policy, grade, points, _ONE)
        return _tuple_new(IndicatorScore, (result[0], result[1], result[2] + "（按整数计分）", result[3]))
    return _score_indicator(rule, target, actual, weight, policy, grade, points, _CENT)


def _score_indicator(rule, target, actual, weight, policy, grade, points, q) -> IndicatorScore:
    """score_indicator with its points rounded to q: 0.01, or 1 for a whole-points policy."""
    try:
        r = _RULES[rule]
    except (KeyError, TypeError):
        raise _err_rule(rule) from None
    if weight.__class__ is not Decimal or not weight.is_finite() or weight <= _ZERO:
        weight = _checked_weight(weight)
    kind = target.kind
    if kind.__class__ is not Kind:
        kind = _kind_of(target)

    if kind is _DEADLINE or r is _DIRECT:
        return _score_direct(kind, target, actual, weight, policy, r, q)
    if r is _GRADED:
        return _score_graded(actual, weight, grade, points, q)
    if kind is _QUAL:
        if grade is not None and points is not None:
            return _score_graded(actual, weight, grade, points, q)
        raise ScoringError(
            f"定性指标（“{target.raw}”）不能“{r.value}”：请选择评判等级并填写得分（按评判等级赋分）。"
        )
    if kind is _UNKNOWN:
        raise _unknown_target(target, r)

    # numeric rules: 按照完成比例赋分 and 满意度赋分
    a = actual
    if a.__class__ is not Decimal or not a.is_finite() or a <= _ZERO:
        a, shown, flags = _numeric_actual(actual, r, target)
    else:
        shown = a
        flags = _NO_FLAGS
    t = target.value
    if t is None or t <= _ZERO or kind is _RANGE:
        try:
            return _score_special(r, kind, target, a, shown, flags, weight, policy, q)
        except InvalidOperation:
            raise ScoringError("数值超出可计算的范围，请检查实际完成值与指标值。") from None
    try:
        if kind is _REV:
            if a <= t:
                p = weight.quantize(_CENT, _DOWN) if q is _CENT else _full(weight, q)
                return _tuple_new(IndicatorScore, (
                    p,
                    (t / a).quantize(_BASIS, _HALF_UP) if a else _RATIO_ONE,
                    f"实际 {shown!s}{_unit(target)}，目标 ≤{t!s}{_unit(target)}，达到目标：{p!s}",
                    flags,
                ))
            ratio = (t / a).quantize(_BASIS, _HALF_UP)
            u = _unit(target)
            formula = policy.reverse_formula
            if formula == _RATIO_FORMULA:
                p = _cap(weight * t / a, weight, q)
                text = f"实际 {shown!s}{u}，目标 ≤{t!s}{u}，超出目标按比例：{weight!s} × {t!s} / {a!s} = {p!s}"
            elif formula != _LINEAR_FORMULA:
                raise ScoringError(f"评分政策的反向指标公式“{formula}”无法识别，应为 ratio 或 linear_to_double。")
            elif a >= t * _TWO:
                p = _ZERO_POINTS
                text = f"实际 {shown!s}{u}，目标 ≤{t!s}{u}，超出目标一倍及以上：0.00"
            else:
                p = _cap(weight * (_ONE - (a - t) / t), weight, q)
                text = (f"实际 {shown!s}{u}，目标 ≤{t!s}{u}，超出目标按线性扣分："
                        f"{weight!s} × (1 − ({a!s} − {t!s}) / {t!s}) = {p!s}")
            return _tuple_new(IndicatorScore, (p, ratio, text, flags))

        # positive / equals (and 满意度赋分 on either)
        if r is _SATISFACTION:
            floor = policy.satisfaction_floor
            if floor is not None and a < floor:
                return _below_floor(kind, target, a, shown, flags, t, floor)
            label = "满意度"
        else:
            label = "实际"
        ratio = (a / t).quantize(_BASIS, _HALF_UP)
        u = _unit(target)
        symbol = "=" if kind is _EQ else "≥"
        if a >= t:
            p = weight.quantize(_CENT, _DOWN) if q is _CENT else _full(weight, q)
            if a > t:
                if kind is _EQ:
                    flags += ("over_target",)
                deduction = _ZERO
                if a > t * (_ONE + policy.overachievement_flag):
                    flags += ("overachievement",)
                    if r is _PROPORTIONAL:
                        deduction = policy.overachievement_deduction
                if kind is _EQ:
                    text = f"{label} {shown!s}{u}，目标 ={t!s}{u}，超过目标值（偏差需说明）：{p!s}"
                else:
                    text = f"{label} {shown!s}{u}，目标 ≥{t!s}{u}，达到目标：{p!s}"
                if deduction:
                    p = _cap(p - deduction, weight, q)
                    text += (f"；超出目标 {_percent_of(policy.overachievement_flag)} 以上，"
                             f"按评分政策扣 {_plain(deduction)} 分：{p!s}")
            else:
                text = f"{label} {shown!s}{u}，目标 {symbol}{t!s}{u}，达到目标：{p!s}"
            return _tuple_new(IndicatorScore, (p, ratio, text, flags))
        p = (weight * a / t).quantize(q, _HALF_UP)
        if p > weight:
            p = _full(weight, q)
        elif q is not _CENT:
            p = p.quantize(_CENT)
        return _tuple_new(IndicatorScore, (
            p,
            ratio,
            f"{label} {shown!s}{u}，目标 {symbol}{t!s}{u}，按完成比例：{weight!s} × {a!s} / {t!s} = {p!s}",
            flags,
        ))
    except InvalidOperation:
        raise ScoringError("数值超出可计算的范围，请检查实际完成值与指标值。") from None


def _below_floor(kind, target, a, shown, flags, t, floor) -> IndicatorScore:
    u = _unit(target)
    ratio = (a / t).quantize(_BASIS, _HALF_UP) if t else None
    symbol = _SYMBOL.get(kind, "")
    if kind is _RANGE:
        shown_target = f"{target.value}–{target.upper}{u}"
    else:
        shown_target = f"{symbol}{t}{u}"
    return IndicatorScore(
        _ZERO_POINTS,
        ratio,
        f"满意度 {shown}{u}，目标 {shown_target}，低于最低满意度 {floor}{u}，不得分：0.00",
        flags + ("below_floor",),
    )


def _score_special(r, kind, target, a, shown, flags, weight, policy, q) -> IndicatorScore:
    """Numeric rules for a range, a target of 0, or a target value that is missing or negative."""
    u = _unit(target)
    if kind is _RANGE:
        low, high = target.value, target.upper
        if low is None or high is None:
            raise _unknown_target(target, r)
        if low < 0:
            raise ScoringError(f"指标值为负数（“{target.raw}”），不能自动计分：请改用直接赋分或按评判等级赋分。")
        if low > high:
            low, high = high, low
        if r is _SATISFACTION:
            floor = policy.satisfaction_floor
            if floor is not None and a < floor:
                return _below_floor(kind, target, a, shown, flags, low, floor)
        head = f"实际 {shown}{u}，目标 {low}–{high}{u}"
        if a < low:  # low > 0 here since a >= 0
            p = _cap(weight * a / low, weight, q)
            return IndicatorScore(p, (a / low).quantize(_BASIS, _HALF_UP),
                                  f"{head}，低于下限按比例：{weight} × {a} / {low} = {p}", flags)
        if a > high:  # a > 0 here
            p = _cap(weight * high / a, weight, q)
            return IndicatorScore(p, (high / a).quantize(_BASIS, _HALF_UP),
                                  f"{head}，高于上限按比例：{weight} × {high} / {a} = {p}", flags)
        p = _full(weight, q)
        return IndicatorScore(p, _RATIO_ONE, f"{head}，在区间内：{p}", flags)

    _target_value(target, r)  # raises for a missing or negative value: what is left is a target of 0
    # target 0, any comparator (e.g. =0% 事故发生率): a <= 0 → w, else 0
    head = f"实际 {shown}{u}，目标 {_SYMBOL.get(kind, '')}0{u}"
    if a <= 0:
        p = _full(weight, q)
        return IndicatorScore(p, _RATIO_ONE, f"{head}，目标为 0 且实际为 0：{p}", flags)
    return IndicatorScore(_ZERO_POINTS, _RATIO_ZERO, f"{head}，目标为 0 而实际大于 0，不得分：0.00", flags)


def _score_direct(kind, target, actual, weight, policy, r, q) -> IndicatorScore:
    """直接赋分: met → w, else 0. Deadlines always come here."""
    if actual is None:
        if kind is _DEADLINE:
            raise ScoringError("缺少实际完成值：时限指标按直接赋分，请填写是否按时完成（是/否）。")
        raise ScoringError("缺少实际完成值。")
    flags = _NO_FLAGS
    u = _unit(target)
    if isinstance(actual, bool):
        met = actual
        head = f"实际{'已' if met else '未'}达成（目标 {target.raw or kind.value}）"
    else:
        value = _checked_number(actual, "实际完成值")
        shown = str(value)
        if value < 0:
            flags = _NEGATIVE
            shown = f"{value}{u}（负数按 0 计）→ 0"
            value = _ZERO
        if kind is _DEADLINE or kind is _QUAL:
            met = value > 0  # 1 = 是, 0 = 否
            head = f"实际{'已' if met else '未'}达成（目标 {target.raw or kind.value}）"
        elif kind is _UNKNOWN:
            raise _unknown_target(target, r)
        elif kind is _RANGE:
            low, high = target.value, target.upper
            if low is None or high is None:
                raise _unknown_target(target, r)
            if low > high:
                low, high = high, low
            met = low <= value <= high
            head = f"实际 {shown}{u}，目标 {low}–{high}{u}"
        else:
            t = target.value
            if t is None:
                raise _unknown_target(target, r)
            if kind is _REV:
                met = value <= t
            elif kind is _EQ:
                met = value == t
                if value > t and t > 0:
                    flags += ("over_target",)
            else:
                met = value >= t
            if kind is not _REV and t > 0 and value > t * (_ONE + policy.overachievement_flag):
                flags += ("overachievement",)
            head = f"实际 {shown}{u}，目标 {_SYMBOL[kind]}{t}{u}"
    if met:
        p = _full(weight, q)
        return IndicatorScore(p, _RATIO_ONE, f"{head}，直接赋分：达成得满分 {p}", flags)
    return IndicatorScore(_ZERO_POINTS, _RATIO_ZERO, f"{head}，直接赋分：未达成，0.00", flags)


def _score_graded(actual, weight, grade, points, q=_CENT) -> IndicatorScore:
    """按评判等级赋分: a grade and a score inside its band (once rounded to whole points, under such a policy)."""
    if actual.__class__ is float:
        raise ScoringError(f"实际完成值必须是精确数值（Decimal 或整数），不能是浮点数：{actual}。")
    if grade is None or grade == "":
        raise ScoringError("按评判等级赋分需要选择评判等级：" + " / ".join(g.value for g in Grade) + "。")
    try:
        g = _GRADES[grade]
    except (KeyError, TypeError):
        allowed = " / ".join(x.value for x in Grade)
        raise ScoringError(f"未知的评判等级“{grade}”，应为以下之一：{allowed}。") from None
    if points is None:
        raise ScoringError(f"按评判等级赋分需要填写得分（等级“{g.value}”）。")
    value = _checked_number(points, "评判得分")
    low, high, closed = band = grade_band(g, weight)
    p = _cap(value, weight, q) if value > 0 else _ZERO_POINTS
    # An open band is checked on the rounded points too: 7.995 in [6, 8) would be stored as 8.00.
    if value < low or value > high or (not closed and value == high):
        raise ScoringError(f"得分 {points} 超出等级“{g.value}”的分值范围 {band.text()}。")
    if p < low or p > high or (not closed and p >= high):
        rounded = "按整数计分四舍五入为" if q is not _CENT else "按 2 位小数计为"
        raise ScoringError(f"得分 {points} {rounded} {p}，超出等级“{g.value}”的分值范围 {band.text()}。")
    ratio = (p / weight).quantize(_BASIS, _HALF_UP) if weight else None
    return IndicatorScore(p, ratio, f"按评判等级赋分：{g.value}，得分 {p}（范围 {band.text()}）", _NO_FLAGS)


_BAND_SHARES = {
    Grade.ACHIEVED: (Decimal("0.8"), _ONE, True),
    Grade.PARTIAL: (Decimal("0.6"), Decimal("0.8"), False),
    Grade.FAILED: (_ZERO, Decimal("0.6"), False),
}


def grade_band(grade: Grade | str, weight: Decimal) -> GradeBand:
    """The band of points a grade allows (domain.md §3): 达成 [0.8w, w], 部分达成 [0.6w, 0.8w), 未达成 [0, 0.6w)."""
    low, high, closed = _BAND_SHARES[Grade(grade)]
    return GradeBand(weight * low, weight * high, closed)


# --- budget execution, table total, grade ---------------------------------------------------------

def score_execution(*, budget, executed, weight=EXECUTION_WEIGHT, whole_points=False) -> ExecutionScore:
    """预算执行率 (domain.md §4): rate = executed / budget (4 places), points = weight × min(rate, 1), rounded
    to 2 places or, with `whole_points`, to whole points (ROUND_HALF_UP, never above the weight).

    A budget of 0 (or none, or no executed figure) leaves the rate undefined: ExecutionScore(None, None).
    """
    weight = _checked_weight(weight)
    if budget is None or executed is None:
        return ExecutionScore(None, None)
    budget = _checked_number(budget, "全年预算数")
    if budget < 0:
        raise ScoringError(f"全年预算数不能为负数：{budget}。")
    executed = _checked_number(executed, "全年执行数")
    if budget == 0:
        return ExecutionScore(None, None)
    if executed <= 0:
        return ExecutionScore(_RATIO_ZERO, _ZERO_POINTS)
    try:
        rate = (executed / budget).quantize(_BASIS, _HALF_UP)
    except InvalidOperation:
        raise ScoringError("执行率超出可计算的范围，请检查全年预算数与全年执行数。") from None
    q = _ONE if whole_points else _CENT
    points = _cap(weight * rate, weight, q) if rate < 1 else _full(weight, q)
    return ExecutionScore(rate, points)


def score_table(*, items, execution, execution_weight=None, policy=DEFAULT_POLICY) -> TableTotal:
    """Table total (domain.md §5): execution + indicators, rescaled when some indicators are not applicable,
    then bounded by the strictest of the policy's `execution_caps` the 执行率 is below.

    `execution_weight` defaults to the policy's; `execution` is an ExecutionScore (rate, points) or None.
    """
    execution_weight = _checked_weight(policy.execution_weight if execution_weight is None else execution_weight)
    full = applicable = execution_weight
    indicator_points = _ZERO
    missing = 0
    for item in items:
        weight = _checked_weight(item[0])
        full += weight
        if len(item) > 2 and item[2]:
            continue
        applicable += weight
        if item[1] is None:
            missing += 1
        else:
            indicator_points += _checked_number(item[1], "指标得分")
    execution_points = None if execution is None else execution[1]
    earned = indicator_points
    if execution_points is not None:
        earned += _checked_number(execution_points, "预算执行得分")
    if applicable == full or applicable == 0:
        scaled, scale = earned, _ONE
    else:
        scaled, scale = earned * full / applicable, full / applicable
    total = scaled.quantize(_CENT, _HALF_UP)
    if total > full:
        total = full.quantize(_CENT, _DOWN)
    elif total <= 0:
        total = _ZERO_POINTS
    cap, explanation = None, ""
    rate = None if execution is None else execution[0]
    if policy.execution_caps and rate is not None:
        cap, explanation, total = _execution_cap(policy.execution_caps, _checked_number(rate, "执行率"), total)
    return TableTotal(
        total,
        indicator_points.quantize(_CENT, _HALF_UP),
        execution_points,
        scale.quantize(_BASIS, _HALF_UP),
        missing,
        cap,
        explanation,
    )


def _execution_cap(caps, rate: Decimal, total: Decimal) -> tuple[Decimal | None, str, Decimal]:
    """(the highest total allowed, the explanation, the total once capped) under the caps the rate is below."""
    applying = []
    for below, highest in caps:
        below = _checked_number(below, "执行率封顶的执行率")
        highest = _checked_number(highest, "执行率封顶的总分")
        if rate * 100 < below:
            applying.append((highest, below))
    if not applying:
        return None, "", total
    highest, below = min(applying)  # the strictest cap wins (the lowest total; on a tie, the lowest rate)
    cap = max(highest, _ZERO).quantize(_CENT, _HALF_UP)
    shown_rate = _percent_of(rate.quantize(_BASIS, _HALF_UP))
    if total > cap:
        return cap, f"预算执行率 {shown_rate} 低于 {_plain(below)}%，总分最高 {_plain(highest)} 分：{total} → {cap}", cap
    return cap, f"预算执行率 {shown_rate} 低于 {_plain(below)}%，总分最高 {_plain(highest)} 分（{total} 未超过）", total


def grade_for(total, policy=DEFAULT_POLICY) -> str:
    """The first band label whose threshold ≤ total (default 优 ≥ 90, 良 [80, 90), 中 [60, 80), 差 < 60)."""
    value = _checked_number(total, "总分")
    bands = policy.grade_bands
    if not bands:
        raise ScoringError("评分政策未设置等级区间。")
    for threshold, label in bands:
        if threshold <= value:
            return label
    return bands[-1][1]
