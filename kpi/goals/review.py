"""指标质量审核 — the target-quality review of one goal table (domain.md §10). Pure Python: no Django.

`review(TableFacts) -> list[Finding]` checks what a finance reviewer checks before approving a table; the
facts are read from the database by `kpi.goals.review_selectors`. Every finding has a stable `code`, a
severity — ``"must"`` (必须修改: 申报 is refused while one remains) or ``"should"`` (建议修改) — and a Chinese
message naming the row (第 n 行 = the indicator's 1-based position in the table).

Rules (code: severity):

- ``weight_sum`` (must): the weights do not sum to the policy's figure (100 − 预算执行率分值, usually 90).
- ``level1_missing`` (must), one per group missing. A 项目支出 table needs 产出, 效益 and 满意度 一级指标
  (成本 does not stand in for 产出: a table of costs alone says nothing of its outputs). A 部门整体 table
  is published with other 一级 names (履职效能 / 服务对象满意度 in 财预〔2021〕101号 tables, 产出 / 效益 /
  满意度 in others), and often without any 效益 level, so it needs one performance group — 履职*, 产出* or
  效益* — and one 满意度 group.
- ``target_unmeasurable`` (must): no target, or one that cannot be read (masked, OCR-broken, too long…).
  A deadline or a grade description (定性) counts as measurable (domain.md §10).
- ``target_no_comparator`` (must): a bare number (``100%``, ``0.035元/条``). It is read as "equals", but
  whether more, less or exactly it is meant decides the scoring formula, so the target is not measurable
  as intended until a person says; domain.md §10 lists "no bare numbers", and the fix is one character.
- ``beneficiaries_reverse`` (should): a reverse comparator (≤) on a count of people served (人数, 人次,
  户数, 覆盖, 受益…, or a 数量指标 counted in 人/户): fewer is never better for those. Names of things to
  avoid (投诉, 差错, 事故…) are exempt.
- ``cost_positive`` (should): a positive comparator (≥) on a cost (成本 一级/二级, 单价, 费用…) counted
  in money (元, 万元/人…); a rate (``成本节约率≥5%``) or a count is exempt.
- ``qualitative_vs_library`` (should): a 定性 target where the 指标库's entry for the indicator is
  quantitative (positive, reverse, equals or range).
- ``below_last_year`` / ``above_last_year`` (should): a positive target below last year's actual, a
  reverse one above it (both in the target's unit; 万/千/亿 multipliers are converted).
- ``duplicate_indicator`` (must): the same 二级/三级 pair (as the library normalises it) as an earlier row.
- ``satisfaction_low`` (should): a 满意度 target under 80%.
- ``weight_zero`` (must): a weight of 0, unless the row is 不适用.

Rows marked 不适用 are not scored, so the target rules skip them; they still count in the weight sum (as
published) and in the duplicate check.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from kpi.library.keys import library_key
from kpi.targets import Kind, parse_target, target_text

__all__ = [
    "MUST",
    "SATISFACTION_MINIMUM",
    "SEVERITY_LABELS",
    "SHOULD",
    "Finding",
    "RowFacts",
    "TableFacts",
    "convert_unit",
    "has_blocking",
    "review",
]

MUST = "must"  # 必须修改
SHOULD = "should"  # 建议修改
SEVERITY_LABELS = {MUST: "必须修改", SHOULD: "建议修改"}

# A satisfaction target below this (in %) is flagged (domain.md §10).
SATISFACTION_MINIMUM = Decimal(80)

PROJECT = "project"
UNIT = "unit"

_QUANTITATIVE = frozenset({Kind.POSITIVE, Kind.REVERSE, Kind.EQUALS, Kind.RANGE})
_SPACES = re.compile(r"\s+")

# Counts of people served (kept in step with kpi.importers.checks, which warns about the same on import).
_BENEFICIARY_WORDS = ("人数", "人次", "户数", "受益", "惠及", "覆盖", "参保人", "发放对象", "服务对象")
_PEOPLE_UNITS = ("人", "人次", "户", "户次", "人天", "人日")
# Things of which fewer is better even when counted in people ("投诉人次≤5人次").
_FEWER_IS_BETTER = ("投诉", "差错", "错误", "事故", "违规", "违纪", "上访", "信访", "滞留", "等待", "排队", "超时",
                    "失业", "死亡", "伤亡", "发病", "感染", "退回", "逾期", "拖欠", "欠费", "流失")
_COST_LEVEL_WORDS = ("成本",)
_COST_NAME_WORDS = ("成本", "单价", "费用", "经费", "价格", "造价")
# A positive target on these is about spending less (节约率, 降低率) or about money arriving (到位率).
_NOT_A_COST = ("节约", "节省", "降低", "下降", "压减", "到位", "收入", "效益")

_MULTIPLIERS = {"": Decimal(1), "十": Decimal(10), "百": Decimal(100), "千": Decimal(1000),
                "万": Decimal(10) ** 4, "亿": Decimal(10) ** 8}


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding of the review, naming its table and row."""

    table: str  # the project's name, or the unit's for its 部门整体 table
    indicator: str | None  # the row's 三级指标; None for a finding about the whole table
    line: int | None  # the row's 1-based position in the table; None for the whole table
    severity: str  # MUST or SHOULD
    code: str
    message: str

    @property
    def severity_label(self) -> str:
        """必须修改 / 建议修改."""
        return SEVERITY_LABELS[self.severity]

    @property
    def blocking(self) -> bool:
        return self.severity == MUST

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RowFacts:
    """One indicator row as the review sees it. `kind`/`value`/`upper`/`unit`/`flags` are the parsed target
    (`kpi.targets.parse_target`, or the fields stored from it); `last_year_actual` is in the target's unit."""

    line: int
    level1: str
    level2: str
    name: str
    target_raw: str
    kind: Kind
    value: Decimal | None = None
    upper: Decimal | None = None
    unit: str = ""
    flags: tuple[str, ...] = ()
    weight: Decimal = Decimal(0)
    not_applicable: bool = False
    last_year_actual: Decimal | None = None
    library_kind: Kind | None = None  # the 指标库 entry's target kind; None when not in the library

    @classmethod
    def from_text(cls, *, line: int, level1: str, level2: str, name: str, target_raw: str, weight,
                  **extra) -> RowFacts:
        """A row from its texts: the target parsed here (what the editor has before anything is saved)."""
        target = parse_target(target_raw)
        return cls(line=line, level1=level1, level2=level2, name=name, target_raw=target_raw, kind=target.kind,
                   value=target.value, upper=target.upper, unit=target.unit, flags=target.flags,
                   weight=Decimal(weight), **extra)


@dataclass(frozen=True, slots=True)
class TableFacts:
    """A goal table as the review sees it: its name, scope (project/unit), the weight figure and its rows."""

    name: str
    rows: Sequence[RowFacts] = field(default_factory=tuple)
    scope: str = PROJECT
    expected_weight_total: Decimal = Decimal(90)  # the policy's indicator_weight_total


def has_blocking(findings: Iterable[Finding]) -> bool:
    """Whether any finding must be fixed (必须修改) before the table may be submitted (申报)."""
    return any(f.severity == MUST for f in findings)


def review(facts: TableFacts) -> list[Finding]:
    """The findings of one table: those about the whole table first, then row by row in line order."""
    findings = _table_findings(facts)
    seen: dict[str, int] = {}
    for row in sorted(facts.rows, key=lambda r: r.line):
        findings.extend(_row_findings(facts, row, seen))
    return findings


# --- the whole table ------------------------------------------------------------------------------


def _table_findings(facts: TableFacts) -> list[Finding]:
    findings = []
    total = sum((row.weight for row in facts.rows), Decimal(0))
    expected = facts.expected_weight_total
    if facts.rows and total != expected:
        findings.append(Finding(
            facts.name, None, None, MUST, "weight_sum",
            f"指标分值权重合计为 {_number(total)}，应为 {_number(expected)}"
            f"（预算执行率另占 {_number(Decimal(100) - expected)} 分）。",
        ))
    for message in _missing_groups(facts):
        findings.append(Finding(facts.name, None, None, MUST, "level1_missing", message))
    return findings


def _missing_groups(facts: TableFacts) -> list[str]:
    names = [_compact(row.level1) for row in facts.rows]

    def present(*words: str) -> bool:
        return any(word in name for name in names for word in words)

    missing = []
    if facts.scope == UNIT:
        if not present("履职", "产出", "效益"):
            missing.append("缺少反映部门履职的一级指标（履职效能，或产出指标、效益指标）。")
        if not present("满意"):
            missing.append("缺少满意度一级指标（服务对象满意度）。")
        return missing
    for group, label in (("产出", "产出指标"), ("效益", "效益指标"), ("满意", "满意度指标")):
        if not present(group):
            missing.append(f"缺少一级指标“{label}”。")
    return missing


# --- one row --------------------------------------------------------------------------------------


def _row_findings(facts: TableFacts, row: RowFacts, seen: dict[str, int]) -> list[Finding]:
    found: list[tuple[str, str, str]] = []  # (severity, code, message)
    place = f"第 {row.line} 行“{row.name or '（未命名）'}”"

    if row.name.strip():
        key = library_key(row.level2, row.name)
        if key in seen:
            found.append((MUST, "duplicate_indicator",
                          f"{place}与第 {seen[key]} 行是同一指标（{_compact(row.level2)}/{row.name.strip()}），请合并或删除。"))
        else:
            seen[key] = row.line

    if row.weight == 0 and not row.not_applicable:
        found.append((MUST, "weight_zero", f"{place}的分值权重为 0，请设置权重或标记为不适用。"))

    if not row.not_applicable:
        found.extend(_target_findings(row, place))

    return [Finding(facts.name, row.name, row.line, severity, code, message) for severity, code, message in found]


def _target_findings(row: RowFacts, place: str) -> list[tuple[str, str, str]]:
    raw = target_text(row.target_raw or "").strip()  # as a person writes it: ≥576人次, not "> =576 人次"
    if not raw:
        return [(MUST, "target_unmeasurable", f"{place}没有填写指标值。")]
    if row.kind == Kind.UNKNOWN:
        return [(MUST, "target_unmeasurable",
                 f"{place}的指标值“{raw}”无法识别为可衡量的目标，应为比较符加数值（如“≥95%”）、完成时限或评判等级描述。")]
    found = []
    if "no_comparator" in row.flags:
        found.append((MUST, "target_no_comparator",
                      f"{place}的指标值“{raw}”只有数值，没有比较符，请写明“≥”“≤”或“=”。"))
    if row.kind == Kind.REVERSE and _counts_beneficiaries(row):
        found.append((SHOULD, "beneficiaries_reverse",
                      f"{place}是受益对象数量，却使用了反向比较符（“{raw}”表示越少越好），建议改为“≥”。"))
    if row.kind == Kind.POSITIVE and _is_cost(row):
        found.append((SHOULD, "cost_positive",
                      f"{place}是成本指标，却使用了正向比较符（“{raw}”表示越多越好），建议改为“≤”。"))
    if row.kind == Kind.QUALITATIVE and row.library_kind in _QUANTITATIVE:
        found.append((SHOULD, "qualitative_vs_library",
                      f"{place}的指标值“{raw}”是定性描述，指标库中同一指标为定量目标，建议改为可量化的目标值。"))
    found.extend(_last_year_findings(row, place, raw))
    if _is_satisfaction(row) and row.kind in _QUANTITATIVE and row.value is not None and "%" in row.unit \
            and row.value < SATISFACTION_MINIMUM:
        found.append((SHOULD, "satisfaction_low",
                      f"{place}的满意度目标“{raw}”低于 {_number(SATISFACTION_MINIMUM)}%，建议不低于 "
                      f"{_number(SATISFACTION_MINIMUM)}%。"))
    return found


def _last_year_findings(row: RowFacts, place: str, raw: str) -> list[tuple[str, str, str]]:
    last, value = row.last_year_actual, row.value
    if last is None or value is None:
        return []
    shown = f"{_number(last)}{row.unit}"
    if row.kind == Kind.POSITIVE and value < last:
        return [(SHOULD, "below_last_year",
                 f"{place}的目标值“{raw}”低于上年完成值 {shown}，正向指标的目标一般不应低于上年实际。")]
    if row.kind == Kind.REVERSE and value > last:
        return [(SHOULD, "above_last_year",
                 f"{place}的目标值“{raw}”高于上年完成值 {shown}，反向指标的目标一般不应高于上年实际。")]
    return []


# --- what a row is about --------------------------------------------------------------------------


def _counts_beneficiaries(row: RowFacts) -> bool:
    name = _compact(row.name)
    if "元" in row.unit or any(word in name for word in _FEWER_IS_BETTER):
        return False  # 元/人/月 is a unit cost; complaints are counted in people too
    if any(word in name for word in _BENEFICIARY_WORDS):
        return True
    return "数量" in _compact(row.level2) and row.unit.endswith(_PEOPLE_UNITS)


def _is_cost(row: RowFacts) -> bool:
    name = _compact(row.name)
    # Counted in money (or in nothing at all): a rate (成本节约率≥5%) or a count under 成本 is no cost.
    if (row.unit and "元" not in row.unit) or any(word in name for word in _NOT_A_COST):
        return False
    levels = _compact(row.level1) + _compact(row.level2)
    return any(word in levels for word in _COST_LEVEL_WORDS) or any(word in name for word in _COST_NAME_WORDS)


def _is_satisfaction(row: RowFacts) -> bool:
    return any("满意" in _compact(text) for text in (row.level1, row.level2, row.name))


# --- helpers --------------------------------------------------------------------------------------


def convert_unit(value: Decimal, from_unit: str, to_unit: str) -> Decimal | None:
    """`value` in `from_unit` expressed in `to_unit` when they differ at most by a 十/百/千/万/亿 multiplier
    (1.70 万人次 → 17000 人次); None when they measure different things."""
    from_unit, to_unit = _compact(from_unit), _compact(to_unit)
    if from_unit == to_unit:
        return value
    (from_mult, from_base), (to_mult, to_base) = _split_multiplier(from_unit), _split_multiplier(to_unit)
    if from_base != to_base or not from_base:
        return None
    return value * _MULTIPLIERS[from_mult] / _MULTIPLIERS[to_mult]


def _split_multiplier(unit: str) -> tuple[str, str]:
    if len(unit) > 1 and unit[0] in _MULTIPLIERS:
        return unit[0], unit[1:]
    return "", unit


def _compact(text: str) -> str:
    return _SPACES.sub("", text or "")


def _number(value: Decimal) -> str:
    """90, 89.5: a Decimal without trailing zeros, never in exponent form."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
