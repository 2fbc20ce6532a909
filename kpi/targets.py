"""指标值 — parsing a published target text into a comparable form.

Pure Python: no Django imports. `parse_target` never raises.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Kind(StrEnum):
    POSITIVE = "positive"  # 正向: higher is better
    REVERSE = "reverse"  # 反向: lower is better
    EQUALS = "equals"  # hit the value
    RANGE = "range"  # inside [value, upper]
    DEADLINE = "deadline"  # done by then (yes/no)
    QUALITATIVE = "qualitative"  # 定性: judged in grades
    UNKNOWN = "unknown"  # could not be read; raw text kept


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed 指标值. `value`/`upper` are Decimals in `unit` (multiplier kept: 485.71万条)."""

    kind: Kind
    value: Decimal | None = None
    upper: Decimal | None = None
    unit: str = ""
    raw: str = ""
    # Review flags, e.g. "no_comparator" for a bare number published without >=/<=/=.
    flags: tuple[str, ...] = ()


def parse_target(text: str) -> Target:  # replaced by the full parser
    return Target(kind=Kind.UNKNOWN, raw=text if isinstance(text, str) else "")
