"""绩效运行监控 lights and forecasts (kpi/monitoring.py, domain.md §6): every rule, band edges, properties."""
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kpi.monitoring import Light, budget_light, forecast, indicator_light, progress_light, worst_light
from kpi.scoring import Grade
from kpi.targets import Kind

D = Decimal
R, Y, G, B, N = Light.RED, Light.YELLOW, Light.GREEN, Light.BLUE, Light.NONE
PROGRESS_RANK = {R: 0, Y: 1, G: 2, B: 3}  # how far along the plan, not how worrying


def light(**given_values):
    """indicator_light with the defaults of a plain positive level indicator at month 7."""
    arguments = {"kind": Kind.POSITIVE, "cumulative": False, "target_value": D("100"), "month": 7, **given_values}
    return indicator_light(**arguments)


# --- bands -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("progress", "with_blue", "expected"),
    [
        (None, True, N),
        (D("-1"), True, R),
        (D("0"), True, R),
        (D("0.5999"), True, R),
        (D("0.6"), True, Y),
        (D("0.7999"), True, Y),
        (D("0.8"), True, G),
        (D("1"), True, G),
        (D("1.1999"), True, G),
        (D("1.2"), True, B),
        (D("5"), True, B),
        (D("0.5999"), False, R),
        (D("0.6"), False, Y),
        (D("0.8"), False, G),
        (D("1.2"), False, G),
        (D("5"), False, G),
    ],
)
def test_progress_bands(progress, with_blue, expected):
    assert progress_light(progress, with_blue=with_blue) is expected


# --- budget: rate / (m / 12), no blue ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("rate", "month", "expected"),
    [
        (None, 7, N),
        (D("0"), 7, R),
        # June: the plan is 50% spent.
        (D("0.29995"), 6, R),  # 59.99%
        (D("0.3"), 6, Y),  # 60%
        (D("0.39995"), 6, Y),  # 79.99%
        (D("0.4"), 6, G),  # 80%
        (D("0.59995"), 6, G),  # 119.99%
        (D("0.6"), 6, G),  # 120%: spending ahead of time is no blue
        (D("1"), 6, G),
        # December: the whole budget.
        (D("0.5999"), 12, R),
        (D("0.6"), 12, Y),
        (D("0.7999"), 12, Y),
        (D("0.8"), 12, G),
        (D("1.0"), 12, G),
        # July, the classic mid-year cut: 7/12 of the year.
        (D("0.35"), 7, Y),  # exactly 60% of plan
        (D("0.3499"), 7, R),
        (D("0.4667"), 7, G),  # 80.006%
        (D("0.4666"), 7, Y),  # 79.99%
        # Exactly 60% / 80% of plan in months whose m/12 is not a finite decimal.
        (D("0.1"), 2, Y),
        (D("0.55"), 11, Y),
        (D("0.2"), 3, G),
        (D("0.6"), 9, G),
    ],
)
def test_budget_light(rate, month, expected):
    assert budget_light(rate=rate, month=month) is expected


# --- cumulative positive: a / (t × m / 12) -----------------------------------------------------------

@pytest.mark.parametrize(
    ("actual", "target", "month", "expected"),
    [
        # December, target 100: the bands read straight off the actual.
        (D("59.99"), D("100"), 12, R),
        (D("60"), D("100"), 12, Y),
        (D("79.99"), D("100"), 12, Y),
        (D("80"), D("100"), 12, G),
        (D("119.99"), D("100"), 12, G),
        (D("120"), D("100"), 12, B),
        # July, target 1200 人次: the plan to date is 700.
        (D("419.93"), D("1200"), 7, R),  # 59.99%
        (D("420"), D("1200"), 7, Y),  # 60%
        (D("559.93"), D("1200"), 7, Y),  # 79.99%
        (D("560"), D("1200"), 7, G),  # 80%
        (D("700"), D("1200"), 7, G),  # on plan
        (D("839.93"), D("1200"), 7, G),  # 119.99%
        (D("840"), D("1200"), 7, B),  # 120%
        # A year-to-date count far below the annual target is still on plan early in the year.
        (D("10"), D("100"), 1, B),  # plan 8.33: 120%
        (D("50"), D("100"), 6, G),
        # Exactly at an edge in months whose t × m / 12 is not a finite decimal.
        (D("10"), D("100"), 2, Y),  # plan 16.67: exactly 60%
        (D("62.5"), D("250"), 5, Y),
        (D("1.75"), D("7"), 5, Y),
        (D("137.5"), D("250"), 11, Y),
        (D("35"), D("100"), 7, Y),
        (D("0"), D("100"), 7, R),
        (D("-5"), D("100"), 7, R),  # a negative year-to-date count counts as nothing done
    ],
)
def test_cumulative_positive_light(actual, target, month, expected):
    assert light(cumulative=True, target_value=target, actual=actual, month=month) is expected


def test_a_cumulative_equals_count_follows_the_plan_too():
    # "=4次" 巡检: 2 done by June is on plan, not red because the year-end ratio is 0.5.
    assert light(kind=Kind.EQUALS, cumulative=True, target_value=D("4"), actual=D("2"), score_ratio=D("0.5"),
                 month=6) is G
    assert light(kind=Kind.EQUALS, cumulative=True, target_value=D("4"), actual=D("1"), score_ratio=D("0.25"),
                 month=6) is R


def test_cumulative_positive_ignores_the_score_ratio():
    # Half the annual count in June is on plan, whatever the (year-end) score ratio says.
    assert light(cumulative=True, actual=D("50"), score_ratio=D("0.5"), month=6) is G


def test_cumulative_without_a_target_value_falls_back_to_the_score_ratio():
    assert light(cumulative=True, target_value=None, actual=D("5"), score_ratio=D("0.7")) is Y
    assert light(cumulative=True, target_value=None, actual=D("5"), score_ratio=None) is N


# --- level positive / equals / range: the score ratio today, same bands ------------------------------

@pytest.mark.parametrize("kind", [Kind.POSITIVE, Kind.EQUALS, Kind.RANGE])
@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (D("0"), R),
        (D("0.5999"), R),
        (D("0.6"), Y),
        (D("0.7999"), Y),
        (D("0.8"), G),
        (D("1"), G),
        (D("1.1999"), G),
        (D("1.2"), B),
        (None, N),  # the engine could not score it
    ],
)
def test_level_light_is_the_score_ratio(kind, ratio, expected):
    assert light(kind=kind, actual=D("96"), score_ratio=ratio) is expected


def test_a_level_is_not_scaled_by_the_month():
    # A 合格率 of 96% against ≥95% is green in January as in December; the actual alone does not decide.
    for month in (1, 7, 12):
        assert light(actual=D("96"), target_value=D("95"), score_ratio=D("1"), month=month) is G
    assert light(actual=D("96"), target_value=D("95"), score_ratio=D("0.5"), month=12) is R


# --- reverse: a ≤ t green, else red; target 0: a = 0 green, else red ---------------------------------

@pytest.mark.parametrize("cumulative", [False, True])
@pytest.mark.parametrize(
    ("actual", "target", "expected"),
    [
        (D("40"), D("50"), G),
        (D("50"), D("50"), G),
        (D("50.01"), D("50"), R),
        (D("500"), D("50"), R),
        (D("40"), None, N),  # no target value to compare with
    ],
)
def test_reverse_light(cumulative, actual, target, expected):
    # Whatever the score ratio says: a reverse indicator is in or out.
    got = light(kind=Kind.REVERSE, cumulative=cumulative, target_value=target, actual=actual, score_ratio=D("0.1"))
    assert got is expected


@pytest.mark.parametrize("kind", [Kind.REVERSE, Kind.POSITIVE, Kind.EQUALS])
@pytest.mark.parametrize("cumulative", [False, True])
@pytest.mark.parametrize(("actual", "expected"), [(D("0"), G), (D("0.00"), G), (D("1"), R), (D("0.01"), R)])
def test_target_zero_light(kind, cumulative, actual, expected):
    # 安全事故 0 起, 投诉 ≤ 0 件: any occurrence is red, none is green, in any month.
    assert light(kind=kind, cumulative=cumulative, target_value=D("0"), actual=actual, month=3) is expected


# --- qualitative grades, deadlines and 直接赋分 -------------------------------------------------------

@pytest.mark.parametrize(
    ("grade", "expected"),
    [(Grade.ACHIEVED, G), (Grade.PARTIAL, Y), (Grade.FAILED, R)],
)
@pytest.mark.parametrize("kind", [Kind.QUALITATIVE, Kind.POSITIVE, Kind.UNKNOWN])
def test_a_grade_gives_the_light(kind, grade, expected):
    assert light(kind=kind, grade=grade.value) is expected
    # The grade decides even beside a number or a met flag.
    assert light(kind=kind, grade=grade.value, actual=D("100"), met=True, score_ratio=D("1")) is expected


@pytest.mark.parametrize("kind", [Kind.DEADLINE, Kind.QUALITATIVE, Kind.POSITIVE, Kind.REVERSE])
def test_met_or_not_met(kind):
    assert light(kind=kind, met=True) is G
    assert light(kind=kind, met=False) is R


@pytest.mark.parametrize("kind", [Kind.DEADLINE, Kind.QUALITATIVE, Kind.UNKNOWN])
def test_a_yes_no_indicator_recorded_as_a_number(kind):
    assert light(kind=kind, actual=D("1"), score_ratio=D("0")) is G
    assert light(kind=kind, actual=D("0"), score_ratio=D("1")) is R


# --- no data -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("cumulative", [False, True])
def test_no_data_is_none(kind, cumulative):
    assert light(kind=kind, cumulative=cumulative) is N
    assert light(kind=kind, cumulative=cumulative, score_ratio=D("1")) is N  # a ratio without an actual
    assert budget_light(rate=None, month=7) is N


# --- a project's light: the worst one ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("lights", "expected"),
    [
        ([G, R], R),
        ([B, Y, G], Y),
        ([R, Y, B, G, N], R),
        ([G, B], B),  # far ahead of plan is worth a look: the target may be too low
        ([G, G], G),
        ([G, N], G),  # missing data never hides a reported light
        ([N, B], B),
        ([N, N], N),
        ([], N),
    ],
)
def test_worst_light(lights, expected):
    assert worst_light(lights) is expected
    assert worst_light(reversed(lights)) is expected
    assert worst_light(iter(lights)) is expected  # any iterable, read once


def test_lights_have_chinese_labels():
    assert [each.label for each in (R, Y, B, G, N)] == ["红灯", "黄灯", "蓝灯", "绿灯", "未填报"]
    assert Light("red") is R  # stored and passed around as its value


# --- forecast: 全年预计完成值 -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("actual", "cumulative", "month", "expected"),
    [
        (D("35"), True, 7, D("60.00")),
        (D("700"), True, 7, D("1200.00")),
        (D("1"), True, 7, D("1.71")),  # 1.714…
        (D("0.5"), True, 7, D("0.86")),  # 0.857… half up
        (D("10"), True, 8, D("15.00")),
        (D("100"), True, 12, D("100.00")),
        (D("0"), True, 3, D("0.00")),
        (D("96.5"), False, 7, D("96.5")),  # a level is expected to hold
        (D("0"), False, 1, D("0")),
        (None, True, 7, None),
        (None, False, 7, None),
    ],
)
def test_forecast(actual, cumulative, month, expected):
    result = forecast(actual=actual, cumulative=cumulative, month=month)
    assert result == expected
    if expected is not None:
        assert str(result) == str(expected)  # two decimals for a projection, untouched for a level


# --- months ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("month", [0, 13, -1, 100])
def test_an_invalid_month_raises(month):
    with pytest.raises(ValueError, match="监控月份"):
        light(actual=D("1"), score_ratio=D("1"), month=month)
    with pytest.raises(ValueError, match="监控月份"):
        light(month=month)  # even without data
    with pytest.raises(ValueError, match="监控月份"):
        budget_light(rate=D("0.5"), month=month)
    with pytest.raises(ValueError, match="监控月份"):
        budget_light(rate=None, month=month)
    for cumulative in (True, False):
        with pytest.raises(ValueError, match="监控月份"):
            forecast(actual=D("10"), cumulative=cumulative, month=month)


# --- properties --------------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
targets = st.decimals(min_value=D("0.01"), max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=0, max_value=3, places=4, allow_nan=False, allow_infinity=False)
months = st.integers(min_value=1, max_value=12)
any_light = st.sampled_from(list(Light))


def exact_light(progress: Fraction, *, with_blue: bool = True) -> Light:
    """The bands of domain.md §6 in exact arithmetic."""
    if progress < Fraction(6, 10):
        return R
    if progress < Fraction(8, 10):
        return Y
    return B if with_blue and progress >= Fraction(12, 10) else G


@given(a=amounts, b=amounts, target=targets, month=months)
def test_less_actual_never_gives_a_better_cumulative_light(a, b, target, month):
    low, high = sorted((a, b))
    lights = [light(cumulative=True, target_value=target, actual=x, month=month) for x in (low, high)]
    assert PROGRESS_RANK[lights[0]] <= PROGRESS_RANK[lights[1]]


@given(a=rates, b=rates, month=months)
def test_less_spending_never_gives_a_better_budget_light(a, b, month):
    low, high = sorted((a, b))
    assert PROGRESS_RANK[budget_light(rate=low, month=month)] <= PROGRESS_RANK[budget_light(rate=high, month=month)]


@given(actual=amounts, target=targets, month=months)
def test_the_cumulative_light_is_exact(actual, target, month):
    progress = Fraction(actual) * 12 / (Fraction(target) * month)
    assert light(cumulative=True, target_value=target, actual=actual, month=month) is exact_light(progress)


@given(target=targets, month=months, edge=st.sampled_from([Fraction(6, 10), Fraction(8, 10), Fraction(12, 10)]))
def test_exactly_at_a_band_edge_is_the_upper_band(target, month, edge):
    actual = edge * Fraction(target) * month / 12
    decimal = D(actual.numerator) / D(actual.denominator)
    assume(Fraction(decimal) == actual)  # a finite decimal, as a recorded actual is
    assert light(cumulative=True, target_value=target, actual=decimal, month=month) is exact_light(edge)


@given(rate=rates, month=months)
def test_the_budget_light_is_exact_and_never_blue(rate, month):
    got = budget_light(rate=rate, month=month)
    assert got is exact_light(Fraction(rate) * 12 / month, with_blue=False)
    assert got is not B


@given(actual=amounts, month=months)
def test_forecast_properties(actual, month):
    projected = forecast(actual=actual, cumulative=True, month=month)
    assert projected >= actual  # a year-to-date count only grows
    assert abs(projected - actual * 12 / month) <= D("0.005")
    assert forecast(actual=actual, cumulative=False, month=month) == actual
    assert forecast(actual=actual, cumulative=True, month=12) == actual


@given(lights=st.lists(any_light, max_size=8))
def test_worst_light_properties(lights):
    worst = worst_light(lights)
    assert worst in lights or (worst is N and not lights)
    assert worst_light(sorted(lights)) is worst  # order does not matter
    assert worst_light([*lights, G]) is (worst if worst is not N else G)  # a green never makes it worse
    assert worst_light([*lights, R]) is R
    if any(each is not N for each in lights):
        assert worst is not N  # missing data never hides what was reported
