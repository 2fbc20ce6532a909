"""评分引擎 (kpi.scoring): every branch of docs/domain.md §3–§5, table-driven and property-based.

No Django here: `kpi.scoring` and `kpi.targets` are pure Python.

Targets are built with `parse_target` from texts seen in published tables (``>=95%``, ``<=4.33万元/月``,
``=100%``, ``=0%``, ``=50-100元``, ``每月25日前``, ``有效提升``, ``>=6万人次`` ...). Expected values are
computed here from the formulas of domain.md §3–§5 (w = weight, t = target, a = actual), never by calling
the engine:

    positive / equals    a >= t → w; else w × a / t
    target 0             a <= 0 → w; else 0
    reverse (ratio)      a <= t → w; else w × t / a
    reverse (linear)     a <= t → w; t < a < 2t → w × (1 − (a − t) / t); a >= 2t → 0
    range [lo, hi]       inside → w; below → w × a / lo; above → w × hi / a
    direct               met → w; else 0 (deadlines always)
    graded               达成 [0.8w, w], 部分达成 [0.6w, 0.8w), 未达成 [0, 0.6w)
    satisfaction         a >= t → w; else w × a / t; below the floor → 0
    execution            rate = executed / budget (4 places); points = 10 × min(rate, 1)
    total                execution + indicators, × full / applicable when some are not applicable
    grade                优 ≥ 90, 良 [80, 90), 中 [60, 80), 差 < 60

Scores are rounded to 2 places ROUND_HALF_UP and never exceed w.
"""
from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.scoring import (
    DEFAULT_POLICY,
    ExecutionScore,
    Grade,
    IndicatorScore,
    Policy,
    ReverseFormula,
    Rule,
    ScoringError,
    TableItem,
    TableTotal,
    default_rule_for,
    grade_for,
    score_execution,
    score_indicator,
    score_table,
)
from kpi.targets import Kind, Target, parse_target

D = Decimal
CENT = D("0.01")
BASIS = D("0.0001")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

PROP, DIRECT, GRADED, SATIS = Rule.PROPORTIONAL, Rule.DIRECT, Rule.GRADED, Rule.SATISFACTION
RATIO, LINEAR = ReverseFormula.RATIO, ReverseFormula.LINEAR_TO_DOUBLE
ACHIEVED, PARTIAL, FAILED = Grade.ACHIEVED, Grade.PARTIAL, Grade.FAILED
LINEAR_POLICY = Policy(reverse_formula=LINEAR)
FLOOR_60 = Policy(satisfaction_floor=D(60))


def q2(x: Decimal) -> Decimal:
    """domain.md §3: every score rounded to 2 places, ROUND_HALF_UP."""
    return x.quantize(CENT, ROUND_HALF_UP)


def q4(x: Decimal) -> Decimal:
    """Ratios and the execution rate: 4 places, ROUND_HALF_UP."""
    return x.quantize(BASIS, ROUND_HALF_UP)


def score(text, actual, weight="10", rule=PROP, policy=DEFAULT_POLICY, **kw) -> IndicatorScore:
    """Score an indicator whose target is the published text `text`; str actuals/weights become Decimals."""
    if isinstance(actual, str):
        actual = D(actual)
    if isinstance(weight, str):
        weight = D(weight)
    target = text if isinstance(text, Target) else parse_target(text)
    return score_indicator(rule=rule, target=target, actual=actual, weight=weight, policy=policy, **kw)


def check_invariants(result: IndicatorScore, weight) -> None:
    """What holds for every score (domain.md §3): 2 places, in [0, w], a one-line Chinese explanation."""
    assert isinstance(result, IndicatorScore)
    assert isinstance(result.points, Decimal)
    assert result.points.as_tuple().exponent == -2, result.points
    assert D(0) <= result.points <= D(weight)
    assert result.explanation and "\n" not in result.explanation
    assert CJK.search(result.explanation)
    assert isinstance(result.flags, tuple)


def assert_chinese_error(excinfo) -> None:
    message = str(excinfo.value)
    assert CJK.search(message), f"ScoringError message is not Chinese: {message!r}"


# ==================================================================================================
# §3 按照完成比例赋分 — positive (正向)
# ==================================================================================================

POSITIVE_CASES = [
    # (target text, actual, weight, expected points, expected ratio, expected flags)
    # met exactly / over / partial
    pytest.param(">=95%", "95", "20", D("20.00"), D("1.0000"), set(), id="exact"),
    pytest.param(">=95%", "100", "20", D("20.00"), q4(D(100) / D(95)), set(), id="over-not-flagged"),
    pytest.param(">=95%", "92", "20", q2(D(20) * D(92) / D(95)), q4(D(92) / D(95)), set(), id="partial-92"),
    pytest.param(">=95%", "94.99", "20", q2(D(20) * D("94.99") / D(95)), q4(D("94.99") / D(95)), set(),
                 id="partial-just-below-rounds-to-w"),
    pytest.param(">=95%", "0", "20", D("0.00"), D("0.0000"), set(), id="zero-actual"),
    pytest.param(">=95%", "0.01", "20", q2(D(20) * D("0.01") / D(95)), q4(D("0.01") / D(95)), set(), id="tiny"),
    # over-achievement flag: a > t × 1.2 (95 × 1.2 = 114)
    pytest.param(">=95%", "114", "20", D("20.00"), D("1.2000"), set(), id="at-1.2t-no-flag"),
    pytest.param(">=95%", "114.01", "20", D("20.00"), q4(D("114.01") / D(95)), {"overachievement"},
                 id="above-1.2t-flag"),
    pytest.param(">=6万人次", "5.5", "10", q2(D(10) * D("5.5") / D(6)), q4(D("5.5") / D(6)), set(), id="wanrenci-partial"),
    pytest.param(">=6万人次", "7.2", "10", D("10.00"), D("1.2000"), set(), id="wanrenci-at-1.2t"),
    pytest.param(">=6万人次", "7.21", "10", D("10.00"), q4(D("7.21") / D(6)), {"overachievement"},
                 id="wanrenci-above-1.2t"),
    pytest.param("> =485.71万条", "400", "15", q2(D(15) * D(400) / D("485.71")), q4(D(400) / D("485.71")), set(),
                 id="ocr-operator"),
    pytest.param("≥3 件", "2", "5", q2(D(5) * D(2) / D(3)), q4(D(2) / D(3)), set(), id="jian"),
    pytest.param("$\\geq 98\\%$", "97.5", "10", q2(D(10) * D("97.5") / D(98)), q4(D("97.5") / D(98)), set(), id="latex"),
    pytest.param(">=18173.63平方米", "18173.63", "6", D("6.00"), D("1.0000"), set(), id="square-metres-exact"),
    pytest.param(">=5000 人次", "100000", "8", D("8.00"), D("20.0000"), {"overachievement"}, id="ratio-not-capped"),
]


@pytest.mark.parametrize(("text", "actual", "weight", "points", "ratio", "flags"), POSITIVE_CASES)
def test_proportional_positive(text, actual, weight, points, ratio, flags):
    result = score(text, actual, weight)
    assert result.points == points
    assert result.ratio == ratio
    assert set(result.flags) == flags
    check_invariants(result, weight)


def test_proportional_positive_integer_inputs():
    # ints are exact and accepted like Decimals
    result = score_indicator(rule=PROP, target=parse_target(">=95%"), actual=90, weight=20)
    assert result.points == q2(D(20) * D(90) / D(95))
    check_invariants(result, 20)


def test_overachievement_threshold_follows_policy():
    policy = Policy(overachievement_flag=D("0.5"))
    assert "overachievement" not in score(">=6万人次", "9", policy=policy).flags  # 6 × 1.5 = 9
    assert "overachievement" in score(">=6万人次", "9.01", policy=policy).flags
    assert "overachievement" in score(">=6万人次", "7.21").flags  # default 0.2


# ==================================================================================================
# §3 按照完成比例赋分 — equals (scored as positive; over-delivery gets w and is flagged)
# ==================================================================================================

EQUALS_CASES = [
    pytest.param("=100%", "100", "10", D("10.00"), set(), id="exact"),
    pytest.param("=100%", "99", "10", q2(D(10) * D(99) / D(100)), set(), id="partial"),
    pytest.param("=100%", "101", "10", D("10.00"), {"over_target"}, id="over-flag"),
    pytest.param("=100%", "120", "10", D("10.00"), {"over_target"}, id="at-1.2t"),
    pytest.param("=100%", "120.01", "10", D("10.00"), {"over_target", "overachievement"}, id="above-1.2t"),
    pytest.param("=12个月", "11", "6", q2(D(6) * D(11) / D(12)), set(), id="months-partial"),
    pytest.param("=12个月", "12", "6", D("6.00"), set(), id="months-exact"),
    pytest.param("=120元/人/月", "100", "8", q2(D(8) * D(100) / D(120)), set(), id="per-person-month"),
    pytest.param("100%", "95", "10", q2(D(10) * D(95) / D(100)), set(), id="bare-number-as-equals"),
]


@pytest.mark.parametrize(("text", "actual", "weight", "points", "flags"), EQUALS_CASES)
def test_proportional_equals(text, actual, weight, points, flags):
    result = score(text, actual, weight)
    assert result.points == points
    assert set(result.flags) == flags
    check_invariants(result, weight)


# ==================================================================================================
# §3 target 0 (any comparator, e.g. =0% 事故发生率): a <= 0 → w, else 0
# ==================================================================================================

ZERO_TARGET_CASES = [
    pytest.param("=0%", "0", "10", D("10.00"), set(), id="eq-zero-met"),
    pytest.param("=0%", "0.01", "10", D("0.00"), set(), id="eq-zero-missed"),
    pytest.param("=0%", "5", "10", D("0.00"), set(), id="eq-zero-missed-big"),
    pytest.param("=0%", "-1", "10", D("10.00"), {"negative_actual"}, id="eq-zero-negative-counts-as-0"),
    pytest.param("<=0%", "0", "5", D("5.00"), set(), id="rev-zero-met"),
    pytest.param("<=0%", "3", "5", D("0.00"), set(), id="rev-zero-missed"),
    pytest.param(">=0%", "0", "5", D("5.00"), set(), id="pos-zero-met"),
    pytest.param(">=0%", "50", "5", D("0.00"), set(), id="pos-zero-any-comparator"),
    pytest.param("0%", "0", "4", D("4.00"), set(), id="bare-zero"),
]


@pytest.mark.parametrize("rule", [PROP, SATIS])
@pytest.mark.parametrize(("text", "actual", "weight", "points", "flags"), ZERO_TARGET_CASES)
def test_target_zero(text, actual, weight, points, flags, rule):
    result = score(text, actual, weight, rule=rule)
    assert result.points == points
    assert set(result.flags) == flags
    check_invariants(result, weight)


# ==================================================================================================
# §3 按照完成比例赋分 — reverse (反向), both policy formulas
# ==================================================================================================

REVERSE_RATIO_CASES = [
    pytest.param("<=4.33万元/月", "4.33", "10", D("10.00"), D("1.0000"), id="exact"),
    pytest.param("<=4.33万元/月", "4", "10", D("10.00"), q4(D("4.33") / D(4)), id="below"),
    pytest.param("<=4.33万元/月", "0", "10", D("10.00"), D("1.0000"), id="zero-actual"),
    pytest.param("<=4.33万元/月", "5", "10", q2(D(10) * D("4.33") / D(5)), q4(D("4.33") / D(5)), id="over"),
    pytest.param("<=4.33万元/月", "8.66", "10", D("5.00"), D("0.5000"), id="at-2t"),
    pytest.param("<=4.33万元/月", "20", "10", q2(D(10) * D("4.33") / D(20)), q4(D("4.33") / D(20)), id="far-over"),
    pytest.param("≤6万元/单位", "7", "12", q2(D(12) * D(6) / D(7)), q4(D(6) / D(7)), id="per-unit"),
    pytest.param("< =2.50 万元", "3", "5", q2(D(5) * D("2.50") / D(3)), q4(D("2.50") / D(3)), id="ocr"),
    pytest.param("<=5%", "12", "10", q2(D(10) * D(5) / D(12)), q4(D(5) / D(12)), id="percent"),
    pytest.param("<=109元/人/月", "1000000", "10", q2(D(10) * D(109) / D(1000000)), q4(D(109) / D(1000000)),
                 id="tiny-score"),
]


@pytest.mark.parametrize(("text", "actual", "weight", "points", "ratio"), REVERSE_RATIO_CASES)
@pytest.mark.parametrize("policy", [DEFAULT_POLICY, Policy(reverse_formula=RATIO)], ids=["default", "ratio"])
def test_reverse_ratio(text, actual, weight, points, ratio, policy):
    result = score(text, actual, weight, policy=policy)
    assert result.points == points
    assert result.ratio == ratio
    assert result.flags == ()  # lower is better: no over-achievement flag for a reverse target
    check_invariants(result, weight)


def linear(w, t, a) -> Decimal:
    return q2(D(w) * (1 - (D(a) - D(t)) / D(t)))


REVERSE_LINEAR_CASES = [
    pytest.param("<=4.33万元/月", "4.33", "10", D("10.00"), id="exact"),
    pytest.param("<=4.33万元/月", "3", "10", D("10.00"), id="below"),
    pytest.param("<=4.33万元/月", "0", "10", D("10.00"), id="zero"),
    pytest.param("<=4.33万元/月", "6", "10", linear(10, "4.33", 6), id="between"),
    pytest.param("<=4.33万元/月", "4.34", "10", linear(10, "4.33", "4.34"), id="just-over"),
    pytest.param("<=4.33万元/月", "8.65", "10", linear(10, "4.33", "8.65"), id="just-below-2t"),
    pytest.param("<=4.33万元/月", "8.66", "10", D("0.00"), id="at-2t"),
    pytest.param("<=4.33万元/月", "20", "10", D("0.00"), id="above-2t"),
    pytest.param("≤6万元/单位", "7.5", "12", linear(12, 6, "7.5"), id="per-unit"),
    pytest.param("<=5%", "6.25", "10", linear(10, 5, "6.25"), id="percent"),
]


@pytest.mark.parametrize(("text", "actual", "weight", "points"), REVERSE_LINEAR_CASES)
def test_reverse_linear_to_double(text, actual, weight, points):
    result = score(text, actual, weight, policy=LINEAR_POLICY)
    assert result.points == points
    t, a = parse_target(text).value, D(actual)
    assert result.ratio == (q4(t / a) if a else D("1.0000"))
    check_invariants(result, weight)


def test_reverse_formulas_differ_between_t_and_2t():
    # 10 × 4.33 / 6 = 7.22 (ratio) vs 10 × (1 − 1.67 / 4.33) = 6.14 (linear)
    assert score("<=4.33万元/月", "6").points == q2(D(10) * D("4.33") / D(6)) == D("7.22")
    assert score("<=4.33万元/月", "6", policy=LINEAR_POLICY).points == D("6.14")


# ==================================================================================================
# §3 按照完成比例赋分 — range [lo, hi]
# ==================================================================================================

SWAPPED_RANGE = Target(Kind.RANGE, value=D(100), upper=D(50), unit="元", raw="=100-50元(未交换)")

RANGE_CASES = [
    pytest.param("=50-100元", "50", "10", D("10.00"), id="low-edge"),
    pytest.param("=50-100元", "75", "10", D("10.00"), id="inside"),
    pytest.param("=50-100元", "100", "10", D("10.00"), id="high-edge"),
    pytest.param("=50-100元", "40", "10", q2(D(10) * D(40) / D(50)), id="below"),
    pytest.param("=50-100元", "49.99", "10", q2(D(10) * D("49.99") / D(50)), id="just-below"),
    pytest.param("=50-100元", "125", "10", q2(D(10) * D(100) / D(125)), id="above"),
    pytest.param("=50-100元", "100.01", "10", q2(D(10) * D(100) / D("100.01")), id="just-above"),
    pytest.param("=50-100元", "0", "10", D("0.00"), id="zero"),
    pytest.param("=100-50元", "40", "10", q2(D(10) * D(40) / D(50)), id="published-swapped-below"),
    pytest.param("=100-50元", "75", "10", D("10.00"), id="published-swapped-inside"),
    pytest.param(SWAPPED_RANGE, "40", "10", q2(D(10) * D(40) / D(50)), id="engine-swaps-below"),
    pytest.param(SWAPPED_RANGE, "75", "10", D("10.00"), id="engine-swaps-inside"),
    pytest.param(SWAPPED_RANGE, "120", "10", q2(D(10) * D(100) / D(120)), id="engine-swaps-above"),
    pytest.param("[50,100]", "101", "10", q2(D(10) * D(100) / D(101)), id="bracket-above"),
    pytest.param(">=95%且<=100%", "90", "10", q2(D(10) * D(90) / D(95)), id="two-bounds-below"),
    pytest.param(">=95%且<=100%", "97", "10", D("10.00"), id="two-bounds-inside"),
]


@pytest.mark.parametrize(("target", "actual", "weight", "points"), RANGE_CASES)
def test_proportional_range(target, actual, weight, points):
    result = score(target, actual, weight)
    assert result.points == points
    check_invariants(result, weight)


def test_range_negative_actual_counts_as_zero():
    result = score("=50-100元", "-3")
    assert result.points == D("0.00")
    assert result.flags == ("negative_actual",)


# ==================================================================================================
# §3 直接赋分 — met → w, else 0
# ==================================================================================================

DIRECT_CASES = [
    # (target, actual, weight, met, flags)
    pytest.param(">=95%", D("95"), "10", True, set(), id="pos-exact"),
    pytest.param(">=95%", D("94.99"), "10", False, set(), id="pos-below"),
    pytest.param(">=95%", D("114"), "10", True, set(), id="pos-at-1.2t"),
    pytest.param(">=95%", D("120"), "10", True, {"overachievement"}, id="pos-overachievement"),
    pytest.param(">=95%", True, "10", True, set(), id="pos-bool-yes"),
    pytest.param(">=95%", False, "10", False, set(), id="pos-bool-no"),
    pytest.param(">=95%", D("-1"), "10", False, {"negative_actual"}, id="pos-negative"),
    pytest.param(">=6万人次", 6, "10", True, set(), id="pos-int"),
    pytest.param("<=4.33万元/月", D("4.33"), "10", True, set(), id="rev-exact"),
    pytest.param("<=4.33万元/月", D("4.34"), "10", False, set(), id="rev-over"),
    pytest.param("<=4.33万元/月", D("0"), "10", True, set(), id="rev-zero"),
    pytest.param("<=4.33万元/月", D("-2"), "10", True, {"negative_actual"}, id="rev-negative-is-0"),
    pytest.param("=100%", D("100"), "10", True, set(), id="eq-exact"),
    pytest.param("=100%", D("99.99"), "10", False, set(), id="eq-below"),
    # engine decision: under 直接赋分 an equals target is met only when hit exactly; over-delivery is flagged
    pytest.param("=100%", D("101"), "10", False, {"over_target"}, id="eq-over-not-met"),
    pytest.param("=12个月", 12, "10", True, set(), id="eq-months"),
    pytest.param("=0%", D("0"), "10", True, set(), id="eq-zero-met"),
    pytest.param("=0%", D("0.5"), "10", False, set(), id="eq-zero-missed"),
    pytest.param("=50-100元", D("50"), "10", True, set(), id="range-low"),
    pytest.param("=50-100元", D("100"), "10", True, set(), id="range-high"),
    pytest.param("=50-100元", D("49.99"), "10", False, set(), id="range-below"),
    pytest.param("=50-100元", D("100.01"), "10", False, set(), id="range-above"),
    pytest.param(SWAPPED_RANGE, D("75"), "10", True, set(), id="range-swapped-inside"),
    pytest.param("=50-100元", True, "10", True, set(), id="range-bool"),
    pytest.param("有效提升", True, "10", True, set(), id="qual-yes"),
    pytest.param("有效提升", False, "10", False, set(), id="qual-no"),
    pytest.param("有效提升", 1, "10", True, set(), id="qual-1"),
    pytest.param("有效提升", 0, "10", False, set(), id="qual-0"),
    pytest.param("abc", True, "10", True, set(), id="unknown-bool"),
]


@pytest.mark.parametrize(("target", "actual", "weight", "met", "flags"), DIRECT_CASES)
def test_direct(target, actual, weight, met, flags):
    result = score(target, actual, weight, rule=DIRECT)
    assert result.points == (q2(D(weight)) if met else D("0.00"))
    assert result.ratio == (D("1.0000") if met else D("0.0000"))
    assert set(result.flags) == flags
    check_invariants(result, weight)


DEADLINES = ["每月25日前", "2021年12月31日", "2021.12", "年底前", "每月 25 日 前"]


@pytest.mark.parametrize("rule", list(Rule))
@pytest.mark.parametrize("text", DEADLINES)
@pytest.mark.parametrize(("actual", "met", "flags"), [
    pytest.param(True, True, (), id="yes"),
    pytest.param(False, False, (), id="no"),
    pytest.param(1, True, (), id="one"),
    pytest.param(0, False, (), id="zero"),
    pytest.param(D("2"), True, (), id="positive-number"),
    pytest.param(D("-1"), False, ("negative_actual",), id="negative"),
])
def test_deadlines_are_always_direct(text, rule, actual, met, flags):
    assert parse_target(text).kind is Kind.DEADLINE
    # a grade and points are given to prove they are ignored: a deadline is yes/no whatever the rule
    result = score(text, actual, "8", rule=rule, grade=FAILED, points=D(0))
    assert result.points == (D("8.00") if met else D("0.00"))
    assert result.flags == flags
    check_invariants(result, "8")


# ==================================================================================================
# §3 按评判等级赋分 — [0.8w, w], [0.6w, 0.8w), [0, 0.6w)
# ==================================================================================================

GRADED_OK = [
    # (weight, grade, points entered, expected points)
    pytest.param("10", ACHIEVED, "10", D("10.00"), id="achieved-top"),
    pytest.param("10", ACHIEVED, "9.5", D("9.50"), id="achieved-mid"),
    pytest.param("10", ACHIEVED, "8", D("8.00"), id="achieved-0.8w-inclusive"),
    pytest.param("10", PARTIAL, "7.99", D("7.99"), id="partial-below-0.8w"),
    pytest.param("10", PARTIAL, "6", D("6.00"), id="partial-0.6w-inclusive"),
    pytest.param("10", FAILED, "5.99", D("5.99"), id="failed-below-0.6w"),
    pytest.param("10", FAILED, "0", D("0.00"), id="failed-zero"),
    pytest.param("20", ACHIEVED, "16", D("16.00"), id="w20-achieved-edge"),
    pytest.param("20", PARTIAL, "12", D("12.00"), id="w20-partial-edge"),
    pytest.param("20", ACHIEVED, "18.125", q2(D("18.125")), id="half-up"),
    pytest.param("15", PARTIAL, "11.5", D("11.50"), id="w15-partial"),
    pytest.param("10", "达成年度指标", "9", D("9.00"), id="grade-as-text"),
    # the points are rounded to 2 places first, then checked against the band
    pytest.param("10", PARTIAL, "7.994", D("7.99"), id="rounded-then-checked"),
]


@pytest.mark.parametrize("text", ["有效提升", "持续提高", ">=95%"])
@pytest.mark.parametrize(("weight", "grade", "entered", "points"), GRADED_OK)
def test_graded_inside_band(text, weight, grade, entered, points):
    result = score(text, None, weight, rule=GRADED, grade=grade, points=D(entered))
    assert result.points == points
    assert result.ratio == q4(points / D(weight))
    assert result.flags == ()
    check_invariants(result, weight)


GRADED_OUT_OF_BAND = [
    pytest.param("10", ACHIEVED, "7.99", id="achieved-below-0.8w"),
    pytest.param("10", ACHIEVED, "10.01", id="achieved-above-w"),
    pytest.param("10", PARTIAL, "8", id="partial-0.8w-exclusive"),
    pytest.param("10", PARTIAL, "5.99", id="partial-below-0.6w"),
    pytest.param("10", PARTIAL, "9", id="partial-way-above"),
    pytest.param("10", FAILED, "6", id="failed-0.6w-exclusive"),
    pytest.param("10", FAILED, "-0.01", id="failed-negative"),
    pytest.param("20", ACHIEVED, "15.99", id="w20-achieved-below"),
    pytest.param("20", PARTIAL, "16", id="w20-partial-edge"),
    pytest.param("10", PARTIAL, "7.995", id="partial-rounds-up-to-0.8w"),
]


@pytest.mark.parametrize(("weight", "grade", "entered"), GRADED_OUT_OF_BAND)
def test_graded_outside_band_is_refused(weight, grade, entered):
    with pytest.raises(ScoringError) as excinfo:
        score("有效提升", None, weight, rule=GRADED, grade=grade, points=D(entered))
    assert_chinese_error(excinfo)


def test_qualitative_under_proportional_with_a_grade_is_graded():
    result = score("有效提升", None, "10", rule=PROP, grade=PARTIAL, points=D("7"))
    assert result.points == D("7.00")


# ==================================================================================================
# §3 满意度赋分 — a >= t → w; else w × a / t; below the policy floor → 0
# ==================================================================================================

SATISFACTION_CASES = [
    # (target, actual, policy, expected points, flags)
    pytest.param(">=90%", "90", DEFAULT_POLICY, D("10.00"), set(), id="met"),
    pytest.param(">=90%", "95", DEFAULT_POLICY, D("10.00"), set(), id="over"),
    pytest.param(">=90%", "85", DEFAULT_POLICY, q2(D(10) * D(85) / D(90)), set(), id="partial"),
    pytest.param(">=90%", "50", DEFAULT_POLICY, q2(D(10) * D(50) / D(90)), set(), id="no-floor-low"),
    pytest.param(">=90%", "0", DEFAULT_POLICY, D("0.00"), set(), id="no-floor-zero"),
    pytest.param(">=90%", "85", FLOOR_60, q2(D(10) * D(85) / D(90)), set(), id="floor-above"),
    pytest.param(">=90%", "60", FLOOR_60, q2(D(10) * D(60) / D(90)), set(), id="floor-at"),
    pytest.param(">=90%", "59.99", FLOOR_60, D("0.00"), {"below_floor"}, id="floor-below"),
    pytest.param(">=90%", "0", FLOOR_60, D("0.00"), {"below_floor"}, id="floor-zero"),
    pytest.param(">=90%", "-5", FLOOR_60, D("0.00"), {"below_floor", "negative_actual"}, id="floor-negative"),
    pytest.param(">=90%", "95", FLOOR_60, D("10.00"), set(), id="floor-met"),
    pytest.param(">=90%", "110", FLOOR_60, D("10.00"), {"overachievement"}, id="floor-overachievement"),
    pytest.param("$\\geq 98\\%$", "97", FLOOR_60, q2(D(10) * D(97) / D(98)), set(), id="latex"),
    pytest.param("=100%", "50", FLOOR_60, D("0.00"), {"below_floor"}, id="equals-below-floor"),
    pytest.param("=100%", "80", FLOOR_60, D("8.00"), set(), id="equals-above-floor"),
    pytest.param(">=95%且<=100%", "59", FLOOR_60, D("0.00"), {"below_floor"}, id="range-below-floor"),
    pytest.param(">=95%且<=100%", "90", FLOOR_60, q2(D(10) * D(90) / D(95)), set(), id="range-above-floor"),
    # engine decision: a reverse target under 满意度赋分 uses the reverse formula, no floor
    pytest.param("<=5%", "10", FLOOR_60, q2(D(10) * D(5) / D(10)), set(), id="reverse-no-floor"),
]


@pytest.mark.parametrize(("text", "actual", "policy", "points", "flags"), SATISFACTION_CASES)
def test_satisfaction(text, actual, policy, points, flags):
    result = score(text, actual, "10", rule=SATIS, policy=policy)
    assert result.points == points
    assert set(result.flags) == flags
    check_invariants(result, "10")


# ==================================================================================================
# §3 negative actuals count as 0 (flag negative_actual)
# ==================================================================================================

NEGATIVE_CASES = [
    pytest.param(">=95%", PROP, DEFAULT_POLICY, D("0.00"), id="positive"),
    pytest.param("=100%", PROP, DEFAULT_POLICY, D("0.00"), id="equals"),
    pytest.param("<=4.33万元/月", PROP, DEFAULT_POLICY, D("10.00"), id="reverse-ratio"),
    pytest.param("<=4.33万元/月", PROP, LINEAR_POLICY, D("10.00"), id="reverse-linear"),
    pytest.param("=0%", PROP, DEFAULT_POLICY, D("10.00"), id="target-zero"),
    pytest.param("=50-100元", PROP, DEFAULT_POLICY, D("0.00"), id="range"),
    pytest.param(">=90%", SATIS, DEFAULT_POLICY, D("0.00"), id="satisfaction"),
    pytest.param(">=95%", DIRECT, DEFAULT_POLICY, D("0.00"), id="direct"),
]


@pytest.mark.parametrize("actual", [D("-0.01"), D("-50"), -3], ids=["cent", "fifty", "int"])
@pytest.mark.parametrize(("text", "rule", "policy", "points"), NEGATIVE_CASES)
def test_negative_actual_counts_as_zero(text, rule, policy, points, actual):
    result = score(text, actual, "10", rule=rule, policy=policy)
    assert result.points == points
    assert "negative_actual" in result.flags
    # the same as an actual of 0, apart from the flag
    assert result.points == score(text, D(0), "10", rule=rule, policy=policy).points
    check_invariants(result, "10")


# ==================================================================================================
# §3 rounding: ROUND_HALF_UP to 2 places (cases where half-even would differ)
# ==================================================================================================

HALF_CASES = [
    # (target, actual, weight, policy, exact unrounded value)
    pytest.param(">=2 个", "1", "2.25", DEFAULT_POLICY, D("1.125"), id="positive"),
    pytest.param("=8小时", "1", "1", DEFAULT_POLICY, D("0.125"), id="equals"),
    pytest.param("<=4.33万元/月", "20", "10", DEFAULT_POLICY, D("2.165"), id="reverse-ratio"),
    pytest.param("<=8小时", "640", "10", DEFAULT_POLICY, D("0.125"), id="reverse-ratio-small"),
    pytest.param("<=8小时", "15", "1", LINEAR_POLICY, D("0.125"), id="reverse-linear"),
    pytest.param("=50-100元", "1", "6.25", DEFAULT_POLICY, D("0.125"), id="range-below"),
    pytest.param("=50-100元", "800", "1", DEFAULT_POLICY, D("0.125"), id="range-above"),
]


@pytest.mark.parametrize(("text", "actual", "weight", "policy", "exact"), HALF_CASES)
def test_rounding_is_half_up(text, actual, weight, policy, exact):
    result = score(text, actual, weight, policy=policy)
    assert exact.quantize(CENT, ROUND_HALF_UP) != exact.quantize(CENT, ROUND_HALF_EVEN)  # the case matters
    assert result.points == exact.quantize(CENT, ROUND_HALF_UP)


# ==================================================================================================
# §3 points never above the weight
# ==================================================================================================

ODD_WEIGHT = D("3.335")  # full marks rounded half-up would be 3.34 > w


@pytest.mark.parametrize(("text", "actual", "rule", "kw"), [
    pytest.param(">=95%", D(95), PROP, {}, id="positive-met"),
    pytest.param(">=95%", D("94.999"), PROP, {}, id="positive-nearly"),
    pytest.param("=100%", D(150), PROP, {}, id="equals-over"),
    pytest.param("<=4.33万元/月", D(1), PROP, {}, id="reverse-met"),
    pytest.param("=0%", D(0), PROP, {}, id="target-zero"),
    pytest.param("=50-100元", D(75), PROP, {}, id="range-inside"),
    pytest.param(">=90%", D(99), SATIS, {}, id="satisfaction"),
    pytest.param(">=95%", True, DIRECT, {}, id="direct"),
    pytest.param("每月25日前", True, DIRECT, {}, id="deadline"),
    pytest.param("有效提升", None, GRADED, {"grade": ACHIEVED, "points": ODD_WEIGHT}, id="graded"),
])
def test_points_never_above_weight(text, actual, rule, kw):
    result = score(text, actual, ODD_WEIGHT, rule=rule, **kw)
    assert result.points <= ODD_WEIGHT
    assert result.points == ODD_WEIGHT.quantize(CENT, ROUND_DOWN)
    check_invariants(result, ODD_WEIGHT)


@pytest.mark.parametrize(("text", "actual", "rule"), [
    (">=95%", D(95), PROP), ("<=5%", D(1), PROP), ("=50-100元", D(60), PROP), ("每月25日前", True, DIRECT),
])
@pytest.mark.parametrize("weight", [D(0), 0, D("-0")], ids=["decimal", "int", "negative-zero"])
def test_zero_weight_scores_zero(text, actual, rule, weight):
    result = score_indicator(rule=rule, target=parse_target(text), actual=actual, weight=weight)
    assert result.points == D("0.00")
    assert not result.points.is_signed()


# ==================================================================================================
# §3 errors: ScoringError with a Chinese message
# ==================================================================================================

ERROR_CASES = [
    # (target text, rule, actual, weight, extra kwargs)
    pytest.param(">=95%", PROP, D(90), D(-1), {}, id="negative-weight"),
    pytest.param(">=95%", PROP, D(90), -20, {}, id="negative-int-weight"),
    pytest.param(">=95%", PROP, D(90), 20.0, {}, id="float-weight"),
    pytest.param(">=95%", PROP, D(90), D("NaN"), {}, id="nan-weight"),
    pytest.param(">=95%", PROP, D(90), "20", {}, id="string-weight"),
    pytest.param(">=95%", PROP, 92.0, D(20), {}, id="float-actual"),
    pytest.param(">=95%", PROP, D("Infinity"), D(20), {}, id="infinite-actual"),
    pytest.param(">=95%", PROP, "92", D(20), {}, id="string-actual"),
    pytest.param(">=95%", PROP, True, D(20), {}, id="bool-actual-proportional"),
    pytest.param("<=5%", PROP, 3.0, D(20), {}, id="float-actual-reverse"),
    pytest.param(">=95%", DIRECT, 95.0, D(20), {}, id="float-actual-direct"),
    pytest.param("每月25日前", DIRECT, 1.0, D(20), {}, id="float-actual-deadline"),
    pytest.param(">=95%", "按比例", D(90), D(20), {}, id="unknown-rule"),
    pytest.param(">=95%", "proportional", D(90), D(20), {}, id="unknown-rule-english"),
    pytest.param(">=95%", None, D(90), D(20), {}, id="no-rule"),
    pytest.param(">=95%", ["x"], D(90), D(20), {}, id="unhashable-rule"),
    pytest.param("abc", PROP, D(90), D(20), {}, id="unknown-target-proportional"),
    pytest.param("", PROP, D(90), D(20), {}, id="empty-target-proportional"),
    pytest.param("abc", SATIS, D(90), D(20), {}, id="unknown-target-satisfaction"),
    pytest.param("abc", DIRECT, D(1), D(20), {}, id="unknown-target-direct-numeric"),
    pytest.param("有效提升", PROP, D(1), D(20), {}, id="qualitative-proportional"),
    pytest.param("有效提升", SATIS, D(1), D(20), {}, id="qualitative-satisfaction"),
    pytest.param("有效提升", PROP, D(1), D(20), {"grade": ACHIEVED}, id="qualitative-grade-without-points"),
    pytest.param(">=95%", PROP, None, D(20), {}, id="missing-actual-proportional"),
    pytest.param("<=5%", PROP, None, D(20), {}, id="missing-actual-reverse"),
    pytest.param(">=90%", SATIS, None, D(20), {}, id="missing-actual-satisfaction"),
    pytest.param(">=95%", DIRECT, None, D(20), {}, id="missing-actual-direct"),
    pytest.param("每月25日前", DIRECT, None, D(20), {}, id="missing-actual-deadline"),
    pytest.param("2021年12月31日", PROP, None, D(20), {}, id="missing-actual-deadline-proportional"),
    pytest.param("有效提升", GRADED, None, D(20), {"grade": "优秀", "points": D(18)}, id="unknown-grade"),
    pytest.param("有效提升", GRADED, None, D(20), {"grade": None, "points": D(18)}, id="no-grade"),
    pytest.param("有效提升", GRADED, None, D(20), {"grade": "", "points": D(18)}, id="empty-grade"),
    pytest.param("有效提升", GRADED, None, D(20), {"grade": ACHIEVED}, id="grade-without-points"),
    pytest.param("有效提升", GRADED, None, D(20), {"grade": ACHIEVED, "points": 18.0}, id="float-points"),
    pytest.param("有效提升", GRADED, 1.0, D(20), {"grade": ACHIEVED, "points": D(18)}, id="graded-float-actual"),
    pytest.param("有效提升", GRADED, None, D(20), {"grade": ACHIEVED, "points": D(15)}, id="points-outside-band"),
    pytest.param(">=-5%", PROP, D(3), D(20), {}, id="negative-target"),
    pytest.param("<=-5%", PROP, D(3), D(20), {}, id="negative-target-reverse"),
    pytest.param("=-5-10元", PROP, D(3), D(20), {}, id="negative-range-bound"),
    pytest.param(">=-5%", SATIS, D(3), D(20), {}, id="negative-target-satisfaction"),
    pytest.param("<=5%", PROP, D(9), D(20), {"policy": Policy(reverse_formula="quadratic")},
                 id="unknown-reverse-formula"),
]


@pytest.mark.parametrize(("text", "rule", "actual", "weight", "kw"), ERROR_CASES)
def test_scoring_errors(text, rule, actual, weight, kw):
    with pytest.raises(ScoringError) as excinfo:
        score_indicator(rule=rule, target=parse_target(text), actual=actual, weight=weight, **kw)
    assert_chinese_error(excinfo)


def test_scoring_error_is_a_value_error():
    assert issubclass(ScoringError, ValueError)


def test_unknown_kind_string_on_target_is_refused():
    target = Target("bogus", value=D(1), raw=">=1")  # type: ignore[arg-type]
    with pytest.raises(ScoringError) as excinfo:
        score_indicator(rule=PROP, target=target, actual=D(1), weight=D(10))
    assert_chinese_error(excinfo)


def test_kind_given_as_plain_string_is_accepted():
    target = Target("positive", value=D(95), unit="%", raw=">=95%")  # type: ignore[arg-type]
    assert score_indicator(rule=PROP, target=target, actual=D(92), weight=D(20)).points == q2(D(20) * D(92) / D(95))


def test_rule_given_as_its_chinese_text():
    result = score_indicator(rule="按照完成比例赋分", target=parse_target(">=95%"), actual=D(92), weight=D(20))
    assert result.points == q2(D(20) * D(92) / D(95))


# ==================================================================================================
# default_rule_for (tables without a 指标赋分规则 column)
# ==================================================================================================

@pytest.mark.parametrize(("text", "kind", "rule"), [
    (">=95%", Kind.POSITIVE, PROP),
    ("<=4.33万元/月", Kind.REVERSE, PROP),
    ("=100%", Kind.EQUALS, PROP),
    ("=50-100元", Kind.RANGE, PROP),
    ("每月25日前", Kind.DEADLINE, DIRECT),
    ("有效提升", Kind.QUALITATIVE, GRADED),
    ("abc", Kind.UNKNOWN, PROP),
])
def test_default_rule_for(text, kind, rule):
    target = parse_target(text)
    assert target.kind is kind
    assert default_rule_for(target) is rule
    assert default_rule_for(kind) is rule  # a bare kind works too


# ==================================================================================================
# §4 预算执行率: rate = executed / budget (4 places), points = 10 × min(rate, 1)
# ==================================================================================================

def execution(budget, executed) -> ExecutionScore:
    rate = q4(D(executed) / D(budget))
    return ExecutionScore(rate, q2(D(10) * min(rate, D(1))))


EXECUTION_CASES = [
    pytest.param(D(100), D("93.21"), execution(100, "93.21"), id="typical"),
    pytest.param(D(3), D(2), execution(3, 2), id="two-thirds"),
    pytest.param(D("1234.56"), D("1000.01"), execution("1234.56", "1000.01"), id="wanyuan"),
    # 24690 / 200000 = 0.12345 → rate 0.1235 (half-up), points 10 × 0.1235 = 1.235 → 1.24 (from the shown rate)
    pytest.param(D(200000), D(24690), ExecutionScore(D("0.1235"), D("1.24")), id="half-up-on-rate-and-points"),
    pytest.param(D(100), D(100), ExecutionScore(D("1.0000"), D("10.00")), id="exact"),
    pytest.param(D(100), D(120), ExecutionScore(D("1.2000"), D("10.00")), id="overspend-capped"),
    pytest.param(D(100), D(1000), ExecutionScore(D("10.0000"), D("10.00")), id="overspend-tenfold"),
    pytest.param(D(100), D(0), ExecutionScore(D("0.0000"), D("0.00")), id="executed-zero"),
    pytest.param(D(0), D(0), ExecutionScore(None, None), id="budget-zero"),
    pytest.param(D(0), D(5), ExecutionScore(None, None), id="budget-zero-spent"),
    pytest.param(None, D(5), ExecutionScore(None, None), id="budget-none"),
    pytest.param(D(100), None, ExecutionScore(None, None), id="executed-none"),
    pytest.param(200, 150, execution(200, 150), id="ints"),
]


@pytest.mark.parametrize(("budget", "executed", "expected"), EXECUTION_CASES)
def test_score_execution(budget, executed, expected):
    result = score_execution(budget=budget, executed=executed)
    assert result == expected
    if result.rate is not None:
        assert result.rate.as_tuple().exponent == -4
        assert result.points.as_tuple().exponent == -2


def test_score_execution_custom_weight():
    assert score_execution(budget=D(100), executed=D(50), weight=D(5)) == ExecutionScore(D("0.5000"), D("2.50"))


@pytest.mark.parametrize(("budget", "executed"), [
    pytest.param(D(-1), D(5), id="negative-budget"),
    pytest.param(-100, 5, id="negative-int-budget"),
    pytest.param(100.0, D(5), id="float-budget"),
    pytest.param(D(100), 5.0, id="float-executed"),
])
def test_score_execution_errors(budget, executed):
    with pytest.raises(ScoringError) as excinfo:
        score_execution(budget=budget, executed=executed)
    assert_chinese_error(excinfo)


# ==================================================================================================
# §5 table total
# ==================================================================================================

W30, W20 = D(30), D(20)


def test_table_plain_sum():
    items = [TableItem(W30, D("28.50")), TableItem(W20, D("18.50")), TableItem(W20, D("15.00")),
             TableItem(W20, D("20.00"))]
    result = score_table(items=items, execution=ExecutionScore(D("0.9321"), D("9.32")))
    expected = D("28.50") + D("18.50") + D("15.00") + D("20.00") + D("9.32")
    assert result == TableTotal(expected, D("82.00"), D("9.32"), D("1.0000"), 0)
    assert result.total.as_tuple().exponent == -2


def test_table_not_applicable_rescaled_to_100():
    # weights 30 + 20 + 20 + 20 = 90; one 20-weight indicator not applicable → applicable 80 of 100
    items = [TableItem(W30, D("27.00")), TableItem(W20, D("18.00")), TableItem(W20, None, True),
             TableItem(W20, D("16.00"))]
    result = score_table(items=items, execution=ExecutionScore(D("0.95"), D("9.50")))
    earned = D("27.00") + D("18.00") + D("16.00") + D("9.50")
    assert result.total == q2(earned * D(100) / D(80))
    assert result.scale == D("1.2500")
    assert result.indicator_points == D("61.00")
    assert result.missing == 0


def test_table_not_applicable_full_marks_give_100():
    items = [TableItem(W30, D("30.00")), TableItem(W20, D("20.00")), TableItem(W20, D("5.00"), True),
             TableItem(W20, D("20.00"))]
    result = score_table(items=items, execution=ExecutionScore(D(1), D("10.00")))
    assert result.total == D("100.00")


def test_table_two_not_applicable():
    items = [TableItem(W30, None, True), TableItem(W20, D("12.00")), TableItem(W20, D("20.00")),
             TableItem(W20, None, True)]
    result = score_table(items=items, execution=ExecutionScore(D(1), D("10.00")))
    assert result.total == q2((D(12) + D(20) + D(10)) * D(100) / D(50))
    assert result.scale == D("2.0000")


def test_table_rescaling_rounds_half_up():
    # 70.02 × 100 / 80 = 87.525 → 87.53 (half-even would give 87.52)
    items = [TableItem(D(70), D("62.02")), TableItem(W20, None, True)]
    result = score_table(items=items, execution=ExecutionScore(D(1), D("8.00")))
    assert result.total == D("87.53")


def test_table_missing_is_counted_and_scores_nothing():
    items = [TableItem(W30, D("30.00")), TableItem(W20, None), TableItem(W20, D("20.00")), TableItem(W20, None)]
    result = score_table(items=items, execution=ExecutionScore(D(1), D("10.00")))
    assert result.missing == 2
    assert result.total == D("60.00")
    assert result.scale == D("1.0000")  # missing is not "not applicable": no rescaling


def test_table_not_applicable_without_points_is_not_missing():
    items = [TableItem(W30, D("30.00")), TableItem(W20, None, True)]
    assert score_table(items=items, execution=None).missing == 0


def test_table_execution_none():
    items = [TableItem(W30, D("25.00")), TableItem(D(60), D("50.00"))]
    result = score_table(items=items, execution=None)
    assert result.execution_points is None
    assert result.total == D("75.00")
    # budget 0: the rate is undefined and so are the execution points
    undefined = score_table(items=items, execution=score_execution(budget=D(0), executed=D(0)))
    assert undefined.execution_points is None
    assert undefined.total == D("75.00")


def test_table_accepts_plain_tuples_and_empty_items():
    assert score_table(items=[(W30, D("29.99"))], execution=(D(1), D("10.00"))).total == D("39.99")
    assert score_table(items=[], execution=ExecutionScore(D(1), D("10.00"))).total == D("10.00")


@pytest.mark.parametrize("items", [
    pytest.param([TableItem(D(-5), D(0))], id="negative-weight"),
    pytest.param([TableItem(20.0, D(10))], id="float-weight"),
    pytest.param([TableItem(W20, 10.0)], id="float-points"),
])
def test_table_errors(items):
    with pytest.raises(ScoringError) as excinfo:
        score_table(items=items, execution=None)
    assert_chinese_error(excinfo)


# ==================================================================================================
# §5 grade
# ==================================================================================================

@pytest.mark.parametrize(("total", "label"), [
    (D("100"), "优"), (D("90"), "优"), (D("90.00"), "优"), (D("89.99"), "良"), (D("80"), "良"),
    (D("79.99"), "中"), (D("60"), "中"), (D("59.99"), "差"), (D("0"), "差"), (95, "优"), (D("-1"), "差"),
])
def test_grade_default_policy(total, label):
    assert grade_for(total) == label
    assert grade_for(total, DEFAULT_POLICY) == label


CUSTOM_BANDS = Policy(version="custom", grade_bands=((D(85), "优"), (D(75), "良"), (D(60), "合格"), (D(0), "不合格")))


@pytest.mark.parametrize(("total", "label"), [
    (D("85"), "优"), (D("84.99"), "良"), (D("75"), "良"), (D("74.99"), "合格"), (D("60"), "合格"),
    (D("59.99"), "不合格"), (D("90"), "优"), (D("0"), "不合格"),
])
def test_grade_custom_policy(total, label):
    assert grade_for(total, CUSTOM_BANDS) == label


def test_grade_errors():
    with pytest.raises(ScoringError) as excinfo:
        grade_for(89.99)
    assert_chinese_error(excinfo)
    with pytest.raises(ScoringError) as excinfo:
        grade_for(D(90), Policy(grade_bands=()))
    assert_chinese_error(excinfo)


# ==================================================================================================
# properties (hypothesis)
# ==================================================================================================

FAST = settings(database=None, deadline=None, max_examples=200)


def decimals(lo, hi, places=2):
    return st.decimals(min_value=D(lo), max_value=D(hi), places=places, allow_nan=False, allow_infinity=False)


weights = decimals(0, 100)
actuals = decimals(-100, 100000)
target_values = decimals("0.01", 10000)
policies = st.builds(
    Policy,
    reverse_formula=st.sampled_from(list(ReverseFormula)),
    satisfaction_floor=st.one_of(st.none(), decimals(0, 100, places=0)),
    overachievement_flag=decimals(0, 1),
)
PUBLISHED = [
    ">=95%", "≥3 件", "> =485.71万条", "$\\geq 98\\%$", ">=6 万人次", "<=4.33万元/月", "≤6万元/单位",
    "< =2.50 万元", "<=5%", "=100%", "=12个月", "=120元/人/月", "=0%", "<=0%", "=50-100元", "=100-50元",
    "[50,100]", ">=95%且<=100%", "100%", "0.035元/条", "每月25日前", "2021年12月31日", "有效提升", "持续提高",
]


def _grade_of(points: Decimal, weight: Decimal) -> Grade:
    if points >= weight * D("0.8"):
        return ACHIEVED
    if points >= weight * D("0.6"):
        return PARTIAL
    return FAILED


@FAST
@given(text=st.sampled_from(PUBLISHED), rule=st.sampled_from(list(Rule)), weight=weights, policy=policies,
       actual=actuals, data=st.data())
def test_property_score_within_zero_and_weight(text, rule, weight, policy, actual, data):
    target = parse_target(text)
    kw = {}
    if rule is GRADED or (target.kind is Kind.QUALITATIVE and rule is not DIRECT):
        entered = data.draw(decimals(0, weight), label="points")
        kw = {"grade": _grade_of(entered, weight), "points": entered}
    if target.kind is Kind.DEADLINE or rule is DIRECT:
        actual = data.draw(st.one_of(st.booleans(), st.just(actual)), label="direct actual")
    result = score_indicator(rule=rule, target=target, actual=actual, weight=weight, policy=policy, **kw)
    check_invariants(result, weight)


@FAST
@given(t=target_values, a1=actuals, a2=actuals, weight=weights, policy=policies,
       rule=st.sampled_from([PROP, SATIS, DIRECT]), op=st.sampled_from([">=", "≥", "> ="]))
def test_property_positive_monotone(t, a1, a2, weight, policy, rule, op):
    low, high = sorted((a1, a2))
    target = parse_target(f"{op}{t}%")
    assert target.kind is Kind.POSITIVE and target.value == t
    p_low = score_indicator(rule=rule, target=target, actual=low, weight=weight, policy=policy).points
    p_high = score_indicator(rule=rule, target=target, actual=high, weight=weight, policy=policy).points
    assert p_low <= p_high


@FAST
@given(t=st.one_of(st.just(D(0)), target_values), a1=actuals, a2=actuals, weight=weights,
       formula=st.sampled_from(list(ReverseFormula)), rule=st.sampled_from([PROP, SATIS, DIRECT]))
def test_property_reverse_antitone(t, a1, a2, weight, formula, rule):
    low, high = sorted((a1, a2))
    target = parse_target(f"<={t}万元/月")
    assert target.kind is Kind.REVERSE
    policy = Policy(reverse_formula=formula)
    p_low = score_indicator(rule=rule, target=target, actual=low, weight=weight, policy=policy).points
    p_high = score_indicator(rule=rule, target=target, actual=high, weight=weight, policy=policy).points
    assert p_low >= p_high


@FAST
@given(t=target_values, weight=weights, rule=st.sampled_from([PROP, SATIS]), data=st.data())
def test_property_equals_agrees_with_positive_below_target(t, weight, rule, data):
    a = data.draw(decimals(-100, t), label="actual")
    eq = score_indicator(rule=rule, target=parse_target(f"={t}%"), actual=a, weight=weight)
    pos = score_indicator(rule=rule, target=parse_target(f">={t}%"), actual=a, weight=weight)
    assert eq.points == pos.points
    assert eq.ratio == pos.ratio


@FAST
@given(t=target_values, weight=weights, data=st.data())
def test_property_positive_partial_is_w_a_over_t(t, weight, data):
    a = data.draw(decimals(0, t), label="actual")
    result = score_indicator(rule=PROP, target=parse_target(f">={t}%"), actual=a, weight=weight)
    expected = q2(weight * a / t) if a < t else weight.quantize(CENT, ROUND_DOWN)
    assert result.points == min(expected, weight)


@FAST
@given(lo=decimals(1, 1000), span=decimals(0, 1000), weight=weights, data=st.data())
def test_property_range_inside_is_full_marks(lo, span, weight, data):
    hi = lo + span
    a = data.draw(decimals(lo, hi), label="actual")
    result = score_indicator(rule=PROP, target=parse_target(f"={lo}-{hi}元"), actual=a, weight=weight)
    assert result.points == weight.quantize(CENT, ROUND_DOWN)


@FAST
@given(budget=decimals(0, 10**9), e1=decimals(0, 10**9), e2=decimals(0, 10**9))
def test_property_execution(budget, e1, e2):
    low, high = sorted((e1, e2))
    r_low = score_execution(budget=budget, executed=low)
    r_high = score_execution(budget=budget, executed=high)
    if budget == 0:
        assert r_low == r_high == ExecutionScore(None, None)
        return
    for r in (r_low, r_high):
        assert D(0) <= r.points <= D(10)
        assert r.points.as_tuple().exponent == -2
        assert r.rate.as_tuple().exponent == -4
    assert r_low.points <= r_high.points


@FAST
@given(data=st.data())
def test_property_table_total_within_100(data):
    n = data.draw(st.integers(1, 8), label="n")
    items = []
    for i in range(n):
        w = data.draw(decimals(0, D(90) / n), label=f"w{i}")
        p = data.draw(st.one_of(st.none(), decimals(0, w)), label=f"p{i}")
        items.append(TableItem(w, p, data.draw(st.booleans(), label=f"na{i}")))
    exec_points = data.draw(st.one_of(st.none(), decimals(0, 10)), label="exec")
    result = score_table(items=items, execution=None if exec_points is None else ExecutionScore(None, exec_points))
    assert D(0) <= result.total <= D(100)
    assert result.total.as_tuple().exponent == -2


# ==================================================================================================
# regional settings of a Policy (issue 14): each computed from its rule, never by calling the engine
#
#   execution_weight        execution points = W × min(rate, 1); the indicators share 100 − W
#   overachievement_deduction   按照完成比例赋分, a > t × (1 + flag) → max(w − d, 0); the flag stays
#   execution_caps          total = min(total, the lowest highest-total among the caps whose rate the 执行率
#                           (in %) is below); an undefined rate applies none
#   whole_points            points = ROUND_HALF_UP(raw, 0) — once, on the raw value — never above ⌊w⌋
# ==================================================================================================

from decimal import ROUND_FLOOR  # noqa: E402

from kpi.scoring import DEFAULT_POLICY_NAME, EXECUTION_WEIGHT, policy_name, policy_names  # noqa: E402

CAPS = ((D(80), D(89)), (D(70), D(79)), (D(60), D(69)), (D(50), D(59)))
WHOLE = Policy(whole_points=True)


def q0(x: Decimal) -> Decimal:
    """Whole points: ROUND_HALF_UP to an integer, shown with 2 places."""
    return x.quantize(D(1), ROUND_HALF_UP).quantize(CENT)


def rule_cap(rate_percent, total: Decimal, caps) -> Decimal:
    """The cap rule in words: the strictest (lowest) highest-total of the caps the rate is below."""
    if rate_percent is None:
        return total
    applying = [highest for below, highest in caps if rate_percent < below]
    return min(total, min(applying)) if applying else total


def test_the_default_policy_keeps_the_published_defaults():
    assert DEFAULT_POLICY.execution_weight == EXECUTION_WEIGHT == D(10)
    assert DEFAULT_POLICY.indicator_weight_total == D(90)
    assert DEFAULT_POLICY.overachievement_deduction == 0 and not DEFAULT_POLICY.whole_points
    assert DEFAULT_POLICY.execution_caps == () and DEFAULT_POLICY.reason_below_execution_rate is None
    assert DEFAULT_POLICY.reason_over_target_percent is None
    assert DEFAULT_POLICY.name == DEFAULT_POLICY_NAME == "默认评分政策"


@pytest.mark.parametrize(("version", "name"), [
    ("default", "默认评分政策"), ("", "默认评分政策"), ("新疆2026@v2", "新疆2026（第2版）"), ("a@b@v10", "a@b（第10版）"),
    ("odd", "odd"),
])
def test_policy_name(version, name):
    assert policy_name(version) == name
    assert Policy(version=version or "default").name == name


def test_policy_names_each_once():
    assert policy_names("default、新疆2026@v2、default") == "默认评分政策、新疆2026（第2版）"
    assert policy_names(["新疆2026@v1", "新疆2026@v2"]) == "新疆2026（第1版）、新疆2026（第2版）"
    assert policy_names("") == ""


# --- execution_weight ------------------------------------------------------------------------------

@pytest.mark.parametrize(("weight", "budget", "executed"), [
    ("20", "100", "93.21"), ("20", "100", "100"), ("20", "100", "130"), ("20", "438.768", "401.5"),
    ("20", "100", "0"), ("10", "100", "93.21"), ("15", "80", "61"), ("20", "3", "1"),
])
def test_execution_points_are_the_policy_weight_times_the_rate(weight, budget, executed):
    w, b, e = D(weight), D(budget), D(executed)
    rate = q4(e / b)
    expected = q2(w * min(rate, D(1))) if rate < 1 else w.quantize(CENT, ROUND_DOWN)
    assert score_execution(budget=b, executed=e, weight=w) == ExecutionScore(rate, expected)


def test_a_policy_execution_weight_makes_the_table_total_out_of_100():
    # 预算执行率 20 points, the indicators 80: 40 + 25 + 15 (a published 20-point table)
    policy = Policy(execution_weight=D(20))
    items = [TableItem(D(40), D("40.00")), TableItem(D(25), D("20.00")), TableItem(D(15), D("15.00"))]
    execution = ExecutionScore(D("0.9000"), D("18.00"))
    result = score_table(items=items, execution=execution, policy=policy)
    assert result.total == D("40.00") + D("20.00") + D("15.00") + D("18.00")
    # full marks are 100 with the policy's weight, so a not-applicable indicator rescales over 20 + 65
    items[1] = TableItem(D(25), None, True)
    rescaled = score_table(items=items, execution=execution, policy=policy)
    assert rescaled.total == q2((D(40) + D(15) + D(18)) * D(100) / D(75))
    assert rescaled.scale == q4(D(100) / D(75))
    # an explicit execution_weight still wins over the policy's (score_table's old keyword)
    explicit = score_table(items=items, execution=ExecutionScore(D("0.9000"), D("9.00")), execution_weight=D(10),
                           policy=policy)
    assert explicit.total == q2((D(40) + D(15) + D(9)) * D(90) / D(65))


# --- overachievement_deduction ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "actual", "weight", "flag", "deduction", "rule"), [
    (">=100人次", "131", "10", "0.3", "2", PROP),  # 31% over a 30% flag: deducted
    (">=100人次", "130", "10", "0.3", "2", PROP),  # exactly 30% over: not more than the flag
    (">=100人次", "200", "10", "0.2", "2.5", PROP),
    (">=100人次", "200", "1.5", "0.2", "2", PROP),  # the deduction exceeds the weight: 0, never below
    ("=100%", "100", "10", "0", "2", PROP),  # equals hit exactly: not over
    (">=6万人次", "9.1", "10", "0.5", "3", PROP),
    (">=90%", "99", "10", "0.05", "2", SATIS),  # 满意度赋分: flagged, not deducted
    (">=100人次", "150", "10", "0.2", "2", DIRECT),  # 直接赋分: flagged, not deducted
    (">=100人次", "90", "10", "0.2", "2", PROP),  # below target: the proportional score, nothing to deduct
    ("<=50元/人", "20", "10", "0.2", "2", PROP),  # reverse: less is better, never over-achieved
])
def test_overachievement_deduction_follows_the_rule(text, actual, weight, flag, deduction, rule):
    t, a, w, f, d = parse_target(text).value, D(actual), D(weight), D(flag), D(deduction)
    kind = parse_target(text).kind
    over = kind in (Kind.POSITIVE, Kind.EQUALS) and a > t * (1 + f)
    if kind is Kind.REVERSE:
        plain = w.quantize(CENT, ROUND_DOWN) if a <= t else q2(w * t / a)
    elif rule is DIRECT:
        plain = w.quantize(CENT, ROUND_DOWN) if a >= t else D("0.00")
    else:
        plain = w.quantize(CENT, ROUND_DOWN) if a >= t else q2(w * a / t)
    expected = max(plain - d, D(0)).quantize(CENT) if over and rule is PROP else plain
    policy = Policy(overachievement_flag=f, overachievement_deduction=d)
    result = score(text, actual, weight, rule=rule, policy=policy)
    assert result.points == expected
    assert ("overachievement" in result.flags) == over  # the flag stays as today
    if over and rule is PROP:
        assert f"扣 {deduction} 分" in result.explanation
    check_invariants(result, w)


def test_no_deduction_is_the_flag_only():
    result = score(">=100人次", "150", "10")
    assert result.points == D("10.00") and "overachievement" in result.flags


# --- execution_caps --------------------------------------------------------------------------------

@pytest.mark.parametrize(("rate", "total"), [
    ("0.7999", "95.00"), ("0.8000", "95.00"), ("0.75", "95.00"), ("0.75", "70.00"), ("0.6999", "92.00"),
    ("0.45", "88.50"), ("0.4999", "59.00"), ("0.50", "60.00"), ("0.95", "99.00"), ("0", "40.00"),
])
def test_execution_caps_bound_the_total(rate, total):
    rate, raw = D(rate), D(total)
    items = [TableItem(D(90), raw - q2(D(10) * rate))]
    execution = ExecutionScore(rate, q2(D(10) * rate))
    result = score_table(items=items, execution=execution, policy=Policy(execution_caps=CAPS))
    expected = rule_cap(rate * 100, raw, CAPS)
    assert result.total == expected
    applying = [h for b, h in CAPS if rate * 100 < b]
    if applying:
        assert result.cap == min(applying)
        assert "总分最高" in result.explanation and f"{min(applying)}" in result.explanation
    else:
        assert result.cap is None and result.explanation == ""


def test_an_undefined_rate_applies_no_cap():
    items = [TableItem(D(90), D("90.00"))]
    undefined = score_execution(budget=D(0), executed=D(5))
    result = score_table(items=items, execution=undefined, policy=Policy(execution_caps=CAPS))
    assert result.total == D("90.00") and result.cap is None
    assert score_table(items=items, execution=None, policy=Policy(execution_caps=CAPS)).total == D("90.00")


def test_the_strictest_cap_wins_in_any_order():
    caps = tuple(reversed(CAPS)) + ((D(90), D(95)),)
    result = score_table(items=[TableItem(D(90), D("85.00"))], execution=ExecutionScore(D("0.55"), D("5.50")),
                         policy=Policy(execution_caps=caps))
    assert result.total == D(69).quantize(CENT)  # below 90, 80, 70 and 60: the lowest of 95, 89, 79, 69


def test_grades_follow_the_capped_total():
    result = score_table(items=[TableItem(D(90), D("88.00"))], execution=ExecutionScore(D("0.68"), D("6.80")),
                         policy=Policy(execution_caps=CAPS))
    assert result.total == D("79.00") and grade_for(result.total) == "中"  # 94.80 uncapped: 优


# --- whole_points ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "actual", "weight", "rule"), [
    (">=100%", "84.95", "10", PROP),  # raw 8.495: 8 (2-place rounding first would give 8.50 → 9)
    (">=100%", "85", "10", PROP),  # raw 8.5: 9
    (">=95%", "90", "20", PROP),  # raw 18.947…: 19
    (">=3件", "2", "7", PROP),  # raw 4.666…: 5
    ("<=4.33万元/月", "4.80", "20", PROP),  # reverse: 20 × 4.33 / 4.8 = 18.041…: 18
    ("=50-100元", "120", "10", PROP),  # above the range: 10 × 100 / 120 = 8.33…: 8
    (">=100%", "120", "7.5", PROP),  # full marks on a 7.5 weight: ⌊7.5⌋ = 7, never above the weight
    (">=90%", "85", "10", SATIS),  # 9.444…: 9
    ("每月25日前", True, "9.6", DIRECT),
])
def test_whole_points_round_the_raw_score_once(text, actual, weight, rule):
    target = parse_target(text)
    t, w = target.value, D(weight)
    a = D(actual) if isinstance(actual, str) else actual
    if rule is DIRECT or target.kind is Kind.DEADLINE:
        raw = w
    elif target.kind is Kind.REVERSE:
        raw = w if a <= t else w * t / a
    elif target.kind is Kind.RANGE:
        low, high = target.value, target.upper
        raw = w if low <= a <= high else (w * a / low if a < low else w * high / a)
    else:
        raw = w if a >= t else w * a / t
    expected = min(q0(raw), w.quantize(D(1), ROUND_FLOOR).quantize(CENT))
    result = score(target, a, weight, rule=rule, policy=WHOLE)
    assert result.points == expected
    assert result.points == result.points.to_integral_value()
    assert "按整数计分" in result.explanation
    check_invariants(result, w)


def test_whole_points_with_a_deduction():
    policy = Policy(whole_points=True, overachievement_deduction=D("2.5"))
    # full marks 10, over by 50%: 10 − 2.5 = 7.5 → 8
    assert score(">=100人次", "150", "10", policy=policy).points == q0(D(10) - D("2.5"))


@pytest.mark.parametrize(("weight", "budget", "executed"), [
    ("10", "100", "84.95"), ("10", "100", "85"), ("20", "100", "93.21"), ("20", "100", "120"), ("7.5", "1", "1"),
])
def test_whole_execution_points(weight, budget, executed):
    w, rate = D(weight), q4(D(executed) / D(budget))
    expected = min(q0(w * min(rate, D(1))), w.quantize(D(1), ROUND_FLOOR).quantize(CENT))
    assert score_execution(budget=D(budget), executed=D(executed), weight=w, whole_points=True).points == expected


def test_whole_points_check_a_graded_score_once_rounded():
    # 7.5 in 部分达成 [6, 8) of a weight 10 rounds to 8: outside the band, refused
    with pytest.raises(ScoringError, match="按整数计分四舍五入为 8"):
        score("有效提升", None, "10", rule=GRADED, policy=WHOLE, grade=PARTIAL, points=D("7.5"))
    assert score("有效提升", None, "10", rule=GRADED, policy=WHOLE, grade=PARTIAL, points=D("7.4")).points == D("7.00")
    assert score("有效提升", None, "10", rule=GRADED, policy=WHOLE, grade=ACHIEVED, points=D("8.5")).points == D("9.00")


# --- properties ------------------------------------------------------------------------------------

caps_strategy = st.lists(st.tuples(decimals(1, 100, places=0), decimals(0, 100, places=0)), max_size=5).map(tuple)
regional_policies = st.builds(
    Policy,
    reverse_formula=st.sampled_from(list(ReverseFormula)),
    overachievement_flag=decimals(0, 1),
    overachievement_deduction=decimals(0, 20),
    whole_points=st.booleans(),
)


@FAST
@given(data=st.data(), caps=caps_strategy, rate=st.one_of(st.none(), decimals(0, 2, places=4)))
def test_property_a_cap_never_raises_a_total(data, caps, rate):
    n = data.draw(st.integers(1, 6), label="n")
    items = [TableItem(w, data.draw(st.one_of(st.none(), decimals(0, w)), label=f"p{i}"))
             for i, w in enumerate(data.draw(st.lists(decimals(0, 15), min_size=n, max_size=n), label="weights"))]
    execution = ExecutionScore(rate, None if rate is None else q2(D(10) * min(rate, D(1))))
    uncapped = score_table(items=items, execution=execution)
    capped = score_table(items=items, execution=execution, policy=Policy(execution_caps=caps))
    assert capped.total <= uncapped.total
    assert capped.total == rule_cap(None if rate is None else rate * 100, uncapped.total,
                                    [(b, h.quantize(CENT)) for b, h in caps])


@FAST
@given(text=st.sampled_from(PUBLISHED), rule=st.sampled_from(list(Rule)), weight=weights, actual=actuals,
       policy=regional_policies, data=st.data())
def test_property_regional_scores_stay_within_zero_and_weight(text, rule, weight, actual, policy, data):
    """Whole points are integers, a deduction never takes a score below 0, and no score exceeds its weight."""
    target = parse_target(text)
    kw = {}
    if rule is GRADED or (target.kind is Kind.QUALITATIVE and rule is not DIRECT):
        entered = data.draw(decimals(0, weight, places=0 if policy.whole_points else 2), label="points")
        kw = {"grade": _grade_of(entered, weight), "points": entered}
    if target.kind is Kind.DEADLINE or rule is DIRECT:
        actual = data.draw(st.one_of(st.booleans(), st.just(actual)), label="direct actual")
    try:
        result = score_indicator(rule=rule, target=target, actual=actual, weight=weight, policy=policy, **kw)
    except ScoringError as error:
        # a graded score that whole-point rounding moves out of its band is refused, in Chinese
        assert policy.whole_points and "按整数计分" in str(error)
        return
    check_invariants(result, weight)
    if policy.whole_points:
        assert result.points == result.points.to_integral_value()


@FAST
@given(t=target_values, a=actuals, weight=weights, deduction=decimals(0, 200), flag=decimals(0, 1))
def test_property_the_deduction_never_goes_below_zero(t, a, weight, deduction, flag):
    policy = Policy(overachievement_flag=flag, overachievement_deduction=deduction)
    result = score_indicator(rule=PROP, target=parse_target(f">={t}人次"), actual=a, weight=weight, policy=policy)
    assert D(0) <= result.points <= weight
    plain = score_indicator(rule=PROP, target=parse_target(f">={t}人次"), actual=a, weight=weight,
                            policy=Policy(overachievement_flag=flag))
    assert result.points == (max(plain.points - deduction, D(0)).quantize(CENT)
                             if "overachievement" in plain.flags else plain.points)


@FAST
@given(budget=decimals(0, 10**6), executed=decimals(0, 10**6), weight=decimals(0, 30))
def test_property_whole_execution_points_are_integers(budget, executed, weight):
    result = score_execution(budget=budget, executed=executed, weight=weight, whole_points=True)
    if result.points is not None:
        assert result.points == result.points.to_integral_value() and D(0) <= result.points <= weight
