"""监控灯 — the traffic lights and forecasts of 绩效运行监控 (domain.md §6). Pure Python, no Django.

Actuals are year-to-date values at month m (1–12). Lights:

- budget:               rate / (m / 12)  → < 60% red, 60–80% yellow, ≥ 80% green
- cumulative positive (and equals, e.g. =4次): a / (t × m / 12) → < 60% red, 60–80% yellow, 80–120% green, ≥ 120% blue
- level positive/equals and ranges: the score ratio today → the same bands
- reverse: a ≤ t green, else red; target 0: a = 0 green, else red
- qualitative: the grade → green / yellow / red; deadlines and 直接赋分: met → green, not met → red
A project shows its worst light; no data is `none`, which is never the worst of anything that has data.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from . import scoring
from .targets import Kind, Target

__all__ = ["Light", "budget_light", "forecast", "indicator_light", "progress_light", "scored_light", "worst_light"]

_TWELVE = Decimal(12)
_RED_BELOW = Decimal("0.6")
_YELLOW_BELOW = Decimal("0.8")
_BLUE_FROM = Decimal("1.2")


class Light(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    BLUE = "blue"  # far ahead of plan: the target may have been set too low
    GREEN = "green"
    NONE = "none"  # nothing reported yet

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {Light.RED: "红灯", Light.YELLOW: "黄灯", Light.BLUE: "蓝灯", Light.GREEN: "绿灯", Light.NONE: "未填报"}
# Worst first: a project shows the first of these that any of its items has.
_SEVERITY = (Light.RED, Light.YELLOW, Light.BLUE, Light.GREEN, Light.NONE)


def _check_month(month: int) -> Decimal:
    if not 1 <= month <= 12:
        raise ValueError(f"监控月份应为 1–12，收到 {month}。")
    return Decimal(month)


def progress_light(progress: Decimal | None, *, with_blue: bool = True) -> Light:
    """The light of a progress ratio (1 = on plan)."""
    if progress is None:
        return Light.NONE
    if progress < _RED_BELOW:
        return Light.RED
    if progress < _YELLOW_BELOW:
        return Light.YELLOW
    if with_blue and progress >= _BLUE_FROM:
        return Light.BLUE
    return Light.GREEN


def budget_light(*, rate: Decimal | None, month: int) -> Light:
    """Budget execution at month m: rate / (m / 12); there is no blue for spending ahead of time."""
    m = _check_month(month)
    if rate is None:
        return Light.NONE
    # rate × 12 / m, not rate / (m / 12): m / 12 is rounded (2/12 = 0.1666…7), which put exactly 60% in red.
    return progress_light(rate * _TWELVE / m, with_blue=False)


def indicator_light(
    *,
    kind: str,
    cumulative: bool,
    target_value: Decimal | None,
    actual: Decimal | None = None,
    met: bool | None = None,
    grade: str = "",
    score_ratio: Decimal | None = None,
    month: int,
) -> Light:
    """One indicator's light at month m from its latest year-to-date actual (see the module docstring)."""
    return _light(kind=kind, cumulative=cumulative, target_value=target_value, actual=actual, met=met, grade=grade,
                  score_ratio=lambda: score_ratio, month=month)


def _light(*, kind, cumulative, target_value, actual, met, grade, score_ratio, month: int) -> Light:
    """`indicator_light` with the score ratio as a function, called only when the light depends on it (a
    level target): scoring an actual is most of the time of a light, and most lights never read it."""
    m = _check_month(month)
    if grade:
        return {"达成年度指标": Light.GREEN, "部分达成年度指标并具有一定效果": Light.YELLOW}.get(grade, Light.RED)
    if met is not None and actual is None:
        return Light.GREEN if met else Light.RED
    if actual is None:
        return Light.NONE
    if kind in (Kind.DEADLINE, Kind.QUALITATIVE, Kind.UNKNOWN):
        return Light.GREEN if actual > 0 else Light.RED
    if target_value is not None and target_value == 0:
        return Light.GREEN if actual <= 0 else Light.RED
    if kind == Kind.REVERSE:
        if target_value is None:
            return Light.NONE
        return Light.GREEN if actual <= target_value else Light.RED
    # A cumulative count published as "=4次" is on plan at 2 in June just as ">=4次" is.
    if cumulative and kind in (Kind.POSITIVE, Kind.EQUALS) and target_value:
        # a × 12 / (t × m): exact at the band edges (t × m / 12 is rounded for most months).
        return progress_light(max(actual, Decimal(0)) * _TWELVE / (target_value * m))
    return progress_light(score_ratio())


_FROM_THE_ENGINE = object()


def scored_light(
    *,
    rule: str,
    target: Target,
    weight: Decimal,
    cumulative: bool,
    value: Decimal | None,
    met: bool | None,
    grade: str,
    points: Decimal | None,
    month: int,
    ratio=_FROM_THE_ENGINE,
) -> Light:
    """An indicator's light from its latest year-to-date actual. A level target is judged by the completion
    ratio the engine gives the actual under the default policy (None when it refuses it); a caller that has
    just scored that very actual so passes its `ratio` instead. The one place both the pages
    (kpi.monitoring.selectors) and the stored summaries (kpi.rescoring) take it from."""
    if ratio is _FROM_THE_ENGINE:
        def score_ratio():
            try:
                return scoring.score_indicator(
                    rule=rule, target=target, actual=value if value is not None else met,
                    weight=weight, grade=grade or None, points=points,
                ).ratio
            except scoring.ScoringError:
                return None
    else:
        def score_ratio():
            return ratio
    return _light(
        kind=target.kind, cumulative=cumulative, target_value=target.value, actual=value, met=met, grade=grade,
        score_ratio=score_ratio, month=month,
    )


def worst_light(lights) -> Light:
    """The worst of several lights (a project's, a unit's): red before yellow before blue before green."""
    found = set(lights)
    return next((light for light in _SEVERITY if light in found), Light.NONE)


def forecast(*, actual: Decimal | None, cumulative: bool, month: int) -> Decimal | None:
    """全年预计完成值, linear for cumulative indicators (a × 12 / m); a level is expected to hold."""
    m = _check_month(month)
    if actual is None:
        return None
    if not cumulative:
        return actual
    return (actual * _TWELVE / m).quantize(Decimal("0.01"), ROUND_HALF_UP)
