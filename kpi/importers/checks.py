"""Defaults and review warnings for a parsed goal-table document (domain.md §1–§2). Pure Python.

`finalize(document)` is the one step every importer's output goes through before it is previewed or
written: old tables without weights get the default split (marked as such), tables without a rule
column get each indicator's default rule, and every anomaly becomes a warning that names the table and
the source line. Nothing is rejected here: a person reviews the warnings.
"""
from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from kpi import scoring
from kpi.targets import Kind, Target, parse_target

from .parsed import ParsedDocument, ParsedIndicator, ParsedTable

# The indicators share what budget execution leaves of 100 points (domain.md §1).
INDICATOR_WEIGHT_TOTAL = Decimal(100) - scoring.EXECUTION_WEIGHT
# Old tables without weights: 产出 50 (成本 counts inside 产出), 效益 30, 满意度 10; equal shares within each.
DEFAULT_SPLIT = (("产出", Decimal(50)), ("效益", Decimal(30)), ("满意度", Decimal(10)))
_OUTPUT_LIKE = ("产出", "成本", "履职")
_CENT = Decimal("0.01")
# Words that make an indicator a count of people served: fewer is never better for those.
_BENEFICIARY_WORDS = ("人数", "人次", "户数", "受益", "惠及", "覆盖", "参保人", "发放对象", "服务对象")
_RULES = {r.value for r in scoring.Rule}


def finalize(document: ParsedDocument) -> ParsedDocument:
    """Fill defaults and add warnings to every table, in place; returns the document."""
    for table in document.tables:
        _fill_default_weights(table)
        for indicator in table.indicators:
            target = parse_target(indicator.target)
            _fill_rule(table, indicator, target)
            table.warnings.extend(_indicator_warnings(table, indicator, target))
        table.warnings.extend(_weight_warnings(table))
    return document


def where(table: ParsedTable, line: int) -> str:
    """How a warning names its place: the table and the source line."""
    return f"{table.label}第 {line} 行" if line else table.label


def split_group(level1: str) -> str | None:
    """Which default-split group a level-1 name belongs to (产出 / 效益 / 满意度), or None."""
    if "满意" in level1:
        return "满意度"
    if "效益" in level1:
        return "效益"
    if any(word in level1 for word in _OUTPUT_LIKE):
        return "产出"
    return None


def default_weights(level1_names: list[str]) -> list[Decimal | None]:
    """The default split for these indicators: each group's points shared equally, cents to the first rows.

    Rows whose level 1 fits no group get None (they are warned about).
    """
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(level1_names):
        group = split_group(name)
        if group is not None:
            groups.setdefault(group, []).append(index)
    weights: list[Decimal | None] = [None] * len(level1_names)
    for group, points in DEFAULT_SPLIT:
        members = groups.get(group, [])
        if not members:
            continue
        share = (points / len(members)).quantize(_CENT, ROUND_DOWN)
        leftover_cents = int((points - share * len(members)) / _CENT)
        for position, index in enumerate(members):
            weights[index] = share + (_CENT if position < leftover_cents else 0)
    return weights


def _fill_default_weights(table: ParsedTable) -> None:
    if not table.indicators or any(i.weight is not None for i in table.indicators):
        return
    table.weights_defaulted = True
    weights = default_weights([i.level1 for i in table.indicators])
    for indicator, weight in zip(table.indicators, weights):
        if weight is None:
            table.warnings.append(
                f"{where(table, indicator.line)}：一级指标“{indicator.level1}”不属于产出、效益或满意度，"
                f"无法按默认规则分配权重，记为 0 分，请核对。"
            )
            weight = Decimal(0)
        indicator.weight = weight
    missing = [group for group, _ in DEFAULT_SPLIT if group not in {split_group(i.level1) for i in table.indicators}]
    note = f"（没有{'、'.join(missing)}指标，相应分值未分配）" if missing else ""
    table.warnings.append(
        f"{where(table, table.line)}：原表未列指标分值权重，已按默认规则分配（产出 50、效益 30、满意度 10，各级内平均）{note}。"
    )


def _fill_rule(table: ParsedTable, indicator: ParsedIndicator, target: Target) -> None:
    published = indicator.rule.strip()
    if not published:
        indicator.rule = scoring.default_rule_for(target).value
        return
    # OCR and typing variants: spaces, a missing 照 (按完成比例赋分) and the like.
    compact = published.replace(" ", "").replace("\u3000", "")
    for rule in _RULES:
        if compact == rule or compact.replace("按完成", "按照完成") == rule:
            indicator.rule = rule
            return
    default = scoring.default_rule_for(target).value
    table.warnings.append(
        f"{where(table, indicator.line)}：指标“{indicator.name}”的赋分规则“{published}”无法识别，已按“{default}”处理。"
    )
    indicator.rule = default


def _indicator_warnings(table: ParsedTable, indicator: ParsedIndicator, target: Target) -> list[str]:
    place = f"{where(table, indicator.line)}：指标“{indicator.name}”"
    warnings = []
    if target.kind is Kind.UNKNOWN:
        warnings.append(f"{place}的指标值“{indicator.target}”无法识别，请核对后手工修正。")
    if "no_comparator" in target.flags:
        warnings.append(f"{place}的指标值“{indicator.target}”只有数值没有比较符号，已按“=”处理，请确认方向。")
    if target.kind is Kind.REVERSE and _counts_people(indicator, target):
        warnings.append(
            f"{place}看起来是受益对象数量，却使用了反向比较符（“{indicator.target}”：越少越好），请确认。"
        )
    if target.kind is Kind.QUALITATIVE and indicator.rule in (scoring.Rule.PROPORTIONAL, scoring.Rule.SATISFACTION):
        warnings.append(f"{place}为定性指标（“{indicator.target}”），却按“{indicator.rule}”计分：评分时需选择评判等级。")
    if indicator.weight is not None and indicator.weight < 0:
        warnings.append(f"{place}的分值权重为负数（{indicator.weight}），请修正。")
    return warnings


def _counts_people(indicator: ParsedIndicator, target: Target) -> bool:
    if "元" in target.unit or "%" in target.unit:
        return False  # 元/人/月 is a unit cost, 5% a rate: lower can be better
    name = indicator.name
    return any(word in name for word in _BENEFICIARY_WORDS) or target.unit.endswith(("人", "人次", "户"))


def _weight_warnings(table: ParsedTable) -> list[str]:
    if not table.indicators:
        return [f"{where(table, table.line)}：没有读到任何指标行。"]
    if table.weights_defaulted:
        return []
    missing = [i for i in table.indicators if i.weight is None]
    warnings = [f"{where(table, i.line)}：指标“{i.name}”缺少分值权重，记为 0 分。" for i in missing]
    for indicator in missing:
        indicator.weight = Decimal(0)
    total = sum((i.weight for i in table.indicators), Decimal(0))
    if total != INDICATOR_WEIGHT_TOTAL:
        warnings.append(f"{where(table, table.line)}：指标分值权重合计为 {total}，应为 {INDICATOR_WEIGHT_TOTAL}（预算执行率另占 {scoring.EXECUTION_WEIGHT} 分）。")
    return warnings
