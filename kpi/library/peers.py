"""Where one unit's numeric target stands among other units' targets for the same library entry (pure: no
Django). A reviewer reads "低于同类单位 90% 的目标值": 90% of the other units set a higher target.

Direction-aware: for a positive indicator a target below most others' is unambitious (偏低); for a reverse
one (costs, error rates, time limits) a low target is the ambitious one (较严).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MIN_PEERS = 3  # fewer other units say nothing about what is usual
MAJORITY = Decimal("0.5")

BELOW, ABOVE, SAME, MIDDLE = "below", "above", "same", "middle"


@dataclass(frozen=True)
class Standing:
    position: str  # BELOW: lower than most others, ABOVE: higher than most, SAME: as most, MIDDLE: neither
    percent: int  # the share (0–100) of others strictly above (BELOW) / below (ABOVE) / equal (SAME); 0 for MIDDLE
    peers: int
    median: Decimal
    ambitious: bool | None  # True: stricter than most, False: looser than most, None: as most / in the middle


def _percent(part: int, whole: int) -> int:
    return int((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1), ROUND_HALF_UP))


def standing(own: Decimal, others: list[Decimal], *, reverse: bool = False) -> Standing | None:
    """Where `own` stands among `others` (one target per other unit); None below MIN_PEERS others."""
    if len(others) < MIN_PEERS:
        return None
    n = len(others)
    higher = sum(1 for value in others if value > own)
    lower = sum(1 for value in others if value < own)
    equal = n - higher - lower
    median = Decimal(statistics.median(sorted(others)))
    if Decimal(equal) / n >= MAJORITY:
        return Standing(SAME, _percent(equal, n), n, median, None)
    if Decimal(higher) / n > MAJORITY:
        return Standing(BELOW, _percent(higher, n), n, median, reverse)
    if Decimal(lower) / n > MAJORITY:
        return Standing(ABOVE, _percent(lower, n), n, median, not reverse)
    return Standing(MIDDLE, 0, n, median, None)


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def standing_text(result: Standing, unit: str = "") -> str:
    """The note a reviewer reads beside the row."""
    median = f"中位数 {_number(result.median)}{unit}"
    if result.position == SAME:
        return f"与多数同类单位相同（{median}）"
    if result.position == MIDDLE:
        return f"处于同类单位中间水平（{median}）"
    side = "低于" if result.position == BELOW else "高于"
    judged = "目标较严" if result.ambitious else "目标偏宽松"
    return f"{side}同类单位 {result.percent}% 的目标值（{median}，{judged}）"
