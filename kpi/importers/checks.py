"""Defaults, review warnings and errors for a parsed goal-table document (domain.md §1–§2). Pure Python.

`finalize(document)` is the one step every importer's output goes through before it is previewed or
written:

- old tables without weights get the default split (marked as such), tables without a rule column get
  each indicator's default rule;
- a target published without its comparator or unit gets them from beside it: the 指标性质 column
  (正向/反向/≥/≤), the indicator's name (``参保人数（万人）`` with ``≥80.9`` → unit 万人; ``（≥**平方米）``),
  the 计量单位 column; the published text is kept (`ParsedIndicator.target_published`);
- a blank 一级指标 is inferred from its 二级指标 where that is unambiguous (`infer_level1`);
- a target cell longer than `MAX_TARGET_LENGTH` characters refuses its row (the row is dropped, with a
  warning);
- every anomaly becomes a warning that names the table and the source line; what would make a table
  impossible to store (no 一级/二级, a name or a 项目名称 too long, a negative weight or amount) is an
  error of that table (`ParsedTable.errors`), in Chinese, naming the line and the field; so are two tables
  of one project in one document (each gets the conflict).
"""
from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from kpi import scoring
from kpi.targets import MAX_TARGET_LENGTH, Kind, Target, looks_like_unit, parse_target

from .parsed import PROJECT, ParsedDocument, ParsedIndicator, ParsedTable

# The indicators share what budget execution leaves of 100 points (domain.md §1): 90 under the default
# policy; a policy giving 预算执行率 20 points leaves 80 (`finalize(document, policy=…)`).
INDICATOR_WEIGHT_TOTAL = scoring.DEFAULT_POLICY.indicator_weight_total
# Old tables without weights: 产出 50 (成本 counts inside 产出), 效益 30, 满意度 10; equal shares within each.
DEFAULT_SPLIT = (("产出", Decimal(50)), ("效益", Decimal(30)), ("满意度", Decimal(10)))
_OUTPUT_LIKE = ("产出", "成本", "履职")
_CENT = Decimal("0.01")
# Words that make an indicator a count of people served: fewer is never better for those.
_BENEFICIARY_WORDS = ("人数", "人次", "户数", "受益", "惠及", "覆盖", "参保人", "发放对象", "服务对象")
_RULES = {r.value for r in scoring.Rule}

# --- the level names: which 二级 belongs under which 一级 (财预〔2021〕101号 and the older tables) -------------

OUTPUT_LEVEL2 = frozenset({"数量指标", "质量指标", "时效指标"})
COST_LEVEL2 = frozenset({"成本指标", "经济成本指标", "社会成本指标", "生态环境成本指标"})
BENEFIT_LEVEL2 = frozenset({"经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"})
SATISFACTION_LEVEL2 = frozenset({"满意度指标", "服务对象满意度指标"})
_GROUPS = (("output", OUTPUT_LEVEL2), ("cost", COST_LEVEL2), ("benefit", BENEFIT_LEVEL2),
           ("satisfaction", SATISFACTION_LEVEL2))
# The standard 一级 of each 二级; 成本指标 alone is a 一级 in the 2021+ tables, a 二级 under 产出 in older ones.
_STANDARD_LEVEL1 = {
    **dict.fromkeys(OUTPUT_LEVEL2, "产出指标"),
    **dict.fromkeys(COST_LEVEL2 - {"成本指标"}, "成本指标"),
    **dict.fromkeys(BENEFIT_LEVEL2, "效益指标"),
    **dict.fromkeys(SATISFACTION_LEVEL2, "满意度指标"),
}
# Which groups of 二级 a standard 一级 may hold.
_LEVEL1_GROUPS = {
    "产出指标": {"output", "cost"}, "成本指标": {"cost"}, "效益指标": {"benefit"}, "满意度指标": {"satisfaction"},
}


def level2_group(level2: str) -> str | None:
    """output / cost / benefit / satisfaction for a standard 二级指标 name, else None."""
    return next((group for group, names in _GROUPS if level2 in names), None)


def infer_level1(level2: str, used: list[tuple[str, str]]) -> str | None:
    """The 一级指标 of a row whose 一级 cell is blank, from its 二级指标 `level2`.

    What the table itself uses comes first (`used`: its (一级, 二级) pairs as published): the 一级 written
    with the same 二级, else with a 二级 of the same group (数量/质量/时效 under 履职效能 in a unit table).
    Then the standard mapping: 数量/质量/时效 → 产出指标, 经济/社会/生态效益 and 可持续影响 → 效益指标,
    满意度 → 满意度指标, 经济成本… → 成本指标, 成本指标 → 成本指标 or 产出指标 as the table's layout shows.
    None when nothing says it unambiguously.
    """
    group = level2_group(level2)
    if group is None:
        return None
    same = {l1 for l1, l2 in used if l1 and l2 == level2}
    if len(same) == 1:
        return next(iter(same))
    alike = {l1 for l1, l2 in used if l1 and level2_group(l2) == group}
    if same or len(alike) > 1:
        return None
    if alike:
        return next(iter(alike))
    if level2 == "成本指标":
        level1s = {l1 for l1, _ in used}
        if "成本指标" in level1s:
            return "成本指标"
        return "产出指标" if "产出指标" in level1s else None
    return _STANDARD_LEVEL1.get(level2)


def level1_conflicts(level1: str, level2: str) -> bool:
    """Whether a standard 一级 cannot hold this standard 二级 (产出指标 over 社会效益指标)."""
    groups = _LEVEL1_GROUPS.get(level1)
    group = level2_group(level2)
    return groups is not None and group is not None and group not in groups


# --- 指标性质: a comparator published in a column (or a name) of its own -------------------------------

DIRECTIONS = {
    **dict.fromkeys(("正向", "正向指标", "≥", ">=", "大于等于", "不低于", "不少于", "↑"), "≥"),
    **dict.fromkeys(("反向", "反向指标", "逆向", "逆向指标", "≤", "<=", "小于等于", "不高于", "不超过", "↓"), "≤"),
    **dict.fromkeys((">", "大于", "高于"), ">"),
    **dict.fromkeys(("<", "小于", "低于"), "<"),
    **dict.fromkeys(("=", "＝", "等于"), "="),
    **dict.fromkeys(("定性", "定量", "中性", "区间", "定性指标", "定量指标"), ""),
}


# What the database holds (the models' max_length and digits): longer or larger is an error of the table.
LEVEL_LENGTH = 50
NAME_LENGTH = 300
PROJECT_LENGTH = 200
UNIT_NAME_LENGTH = 200
LAST_YEAR_LENGTH = 200
PERSON_LENGTH = 50  # 项目负责人, 部门联系人, 联系电话
INDICATOR_UNIT_LENGTH = 50
WEIGHT_PLACES = 2
WEIGHT_LIMIT = Decimal("99999.99")
MONEY_PLACES = 4
MONEY_LIMIT = Decimal(10) ** 10  # 万元
_QUANTITIES = (Kind.POSITIVE, Kind.REVERSE, Kind.EQUALS, Kind.RANGE)


def finalize(document: ParsedDocument, *, policy: scoring.Policy = scoring.DEFAULT_POLICY) -> ParsedDocument:
    """Fill defaults and add warnings and errors to every table, in place; returns the document.

    `policy` is the scoring policy the document's tables will be scored under (the year's:
    `kpi.rescoring.selectors.policy_for_year`): the weights are checked against what its 预算执行率 leaves
    of 100, and an old table's default split shares that much."""
    if len(document.unit) > UNIT_NAME_LENGTH:
        document.errors.append(f"预算单位名称超过 {UNIT_NAME_LENGTH} 个字符（{len(document.unit)} 个），请核对。")
    for table in document.tables:
        _drop_overlong_targets(table)
        _round_weights(table)
        _fill_levels(table)
        _fill_default_weights(table, policy)
        for indicator in table.indicators:
            _complete_target(table, indicator)
            target = parse_target(indicator.target)
            _fill_rule(table, indicator, target)
            table.warnings.extend(_indicator_warnings(table, indicator, target))
        table.warnings.extend(_weight_warnings(table, policy))
        table.errors.extend(_field_errors(table))
    _mark_conflicts(document)
    return document


def _mark_conflicts(document: ParsedDocument) -> None:
    """Two tables of one project (or two 部门整体 tables) in one document would be merged silently: both
    are kept as read and each gets the conflict as its error, so neither is imported."""
    same: dict[tuple[str, str | None], list[ParsedTable]] = {}
    for table in document.tables:
        if table.scope != PROJECT or table.project:
            same.setdefault((table.scope, table.project), []).append(table)
    for tables in same.values():
        if len(tables) > 1:
            lines = "、".join(f"第 {t.line} 行" for t in tables)
            message = (f"{tables[0].label}在文件中有 {len(tables)} 张绩效目标表（{lines}开始），无法确定以哪一张为准，"
                       "均未导入：请删去多余的一张或改正项目名称后再导入。")
            for table in tables:
                table.errors.append(message)


def where(table: ParsedTable, line: int) -> str:
    """How a warning names its place: the table and the source line."""
    return f"{table.label}第 {line} 行" if line else table.label


def _drop_overlong_targets(table: ParsedTable) -> None:
    kept = []
    for indicator in table.indicators:
        if len(indicator.target) > MAX_TARGET_LENGTH:
            table.warnings.append(
                f"{where(table, indicator.line)}：指标“{_short(indicator.name)}”的指标值有 {len(indicator.target)} 个字符"
                f"（超过 {MAX_TARGET_LENGTH} 个），不像是指标值，该行未导入，请核对原表。"
            )
        else:
            kept.append(indicator)
    table.indicators = kept


def _round_weights(table: ParsedTable) -> None:
    """Weights are points with 2 decimals: more is rounded (half up), with a warning."""
    for indicator in table.indicators:
        weight = indicator.weight
        if weight is not None and weight.is_finite() and -weight.as_tuple().exponent > WEIGHT_PLACES:
            rounded = weight.quantize(Decimal(1).scaleb(-WEIGHT_PLACES), ROUND_HALF_UP)
            table.warnings.append(
                f"{where(table, indicator.line)}：指标“{_short(indicator.name)}”的分值权重“{weight}”超过 "
                f"{WEIGHT_PLACES} 位小数，已按 {rounded} 记录。"
            )
            indicator.weight = rounded


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fill_levels(table: ParsedTable) -> None:
    """A blank 一级 (an importer could not carry one down): inferred from the 二级 when that is unambiguous."""
    used = [(i.level1, i.level2) for i in table.indicators if i.level1 and i.level2]
    for indicator in table.indicators:
        if indicator.level1 or not indicator.level2:
            continue
        guess = infer_level1(indicator.level2, used)
        if guess:
            indicator.level1 = guess
            table.warnings.append(
                f"{where(table, indicator.line)}：指标“{indicator.name}”的一级指标为空，"
                f"已按二级指标“{indicator.level2}”推断为“{guess}”，请核对。"
            )


# A comparator and/or a unit at the end of a name: "绿化面积（≥**平方米）", "参保人数（万人）", "到位率(%)".
_NAME_HINT = re.compile(r"[(（]\s*([^()（）]{1,20})\s*[)）]\s*$")
_HINT_COMPARATOR = re.compile(r"(大于等于|小于等于|不低于|不少于|不高于|不超过|大于|小于|等于|>=|<=|≥|≤|＞＝|＜＝|>|<|=|＝|＞|＜)")
_HINT_NUMBER = re.compile(r"[\s*＊×xX#?？0-9０-９.．,，]*")
_SIGNS = {">=": "≥", "<=": "≤", "＞＝": "≥", "＜＝": "≤", "＞": ">", "＜": "<"}


def name_hint(name: str) -> tuple[str, str]:
    """(comparator, unit) written in parentheses at the end of an indicator's name, each "" when absent:
    ``绿化面积（≥**平方米）`` → ("≥", "平方米"), ``参保人数（万人）`` → ("", "万人"), ``离退休（退职）人员`` → ("", "")."""
    match = _NAME_HINT.search(name or "")
    if match is None:
        return "", ""
    inside = match.group(1).strip()
    comparator = ""
    if found := _HINT_COMPARATOR.match(inside):
        word = found.group(1)
        comparator = DIRECTIONS.get(_SIGNS.get(word, word), "")
        inside = inside[found.end():]
    inside = _HINT_NUMBER.sub("", inside, count=1) if comparator else inside
    unit = inside.strip() if looks_like_unit(inside) else ""
    if not unit and inside.strip():
        return (comparator, "") if comparator and not re.search(r"[\u4e00-\u9fff]{3,}", inside) else ("", "")
    return comparator, unit


def _complete_target(table: ParsedTable, indicator: ParsedIndicator) -> None:
    """A comparator or a unit published beside the target (指标性质 / 计量单位 columns, the name) is applied."""
    place = f"{where(table, indicator.line)}：指标“{indicator.name}”"
    target = parse_target(indicator.target)
    comparator, source = "", ""
    if indicator.direction:
        if indicator.direction not in DIRECTIONS:
            table.warnings.append(f"{place}的指标性质“{indicator.direction}”无法识别，未使用。")
        comparator, source = DIRECTIONS.get(indicator.direction, ""), f"指标性质“{indicator.direction}”"
    hinted, name_unit = name_hint(indicator.name)
    if not comparator and hinted:
        comparator, source = hinted, f"指标名称中的“{hinted}”"
    if comparator and target.kind in _QUANTITIES and "no_comparator" in target.flags:
        published = indicator.published
        indicator.target_published = published
        indicator.target = comparator + indicator.target
        target = parse_target(indicator.target)
        table.warnings.append(f"{place}的指标值“{published}”没有比较符号，已按{source}补为“{indicator.target}”。")
    elif comparator in ("≥", ">", "≤", "<") and target.kind in (Kind.POSITIVE, Kind.REVERSE):
        expected = Kind.POSITIVE if comparator in ("≥", ">") else Kind.REVERSE
        if target.kind is not expected:
            table.warnings.append(f"{place}的指标值“{indicator.target}”与{source}方向不一致，以指标值为准，请核对。")
    if target.kind not in _QUANTITIES:
        return
    if target.unit:
        if indicator.unit and indicator.unit != target.unit:
            table.warnings.append(
                f"{place}的计量单位“{indicator.unit}”与指标值“{indicator.target}”中的单位“{target.unit}”不同，以指标值为准。"
            )
        indicator.unit = ""
    elif not indicator.unit and name_unit:
        indicator.unit = name_unit
        table.warnings.append(
            f"{place}的指标值“{indicator.target}”没有计量单位，已按指标名称中的“{name_unit}”记录，请核对。"
        )


def split_group(level1: str) -> str | None:
    """Which default-split group a level-1 name belongs to (产出 / 效益 / 满意度), or None."""
    if "满意" in level1:
        return "满意度"
    if "效益" in level1:
        return "效益"
    if any(word in level1 for word in _OUTPUT_LIKE):
        return "产出"
    return None


def default_weights(level1_names: list[str], total: Decimal = INDICATOR_WEIGHT_TOTAL) -> list[Decimal | None]:
    """The default split for these indicators: each group's points shared equally, cents to the first rows.
    Under a policy whose indicators share another `total` than 90, each group's points are scaled to it
    (产出 50 : 效益 30 : 满意度 10).

    Rows whose level 1 fits no group get None (they are warned about).
    """
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(level1_names):
        group = split_group(name)
        if group is not None:
            groups.setdefault(group, []).append(index)
    weights: list[Decimal | None] = [None] * len(level1_names)
    for group, points in _split(total):
        members = groups.get(group, [])
        if not members:
            continue
        share = (points / len(members)).quantize(_CENT, ROUND_DOWN)
        leftover_cents = int((points - share * len(members)) / _CENT)
        for position, index in enumerate(members):
            weights[index] = share + (_CENT if position < leftover_cents else 0)
    return weights


def _split(total: Decimal) -> tuple[tuple[str, Decimal], ...]:
    """DEFAULT_SPLIT scaled to the indicators' total (itself when it is 90), cents to the first groups."""
    if total == INDICATOR_WEIGHT_TOTAL:
        return DEFAULT_SPLIT
    shares = [(group, (points * total / INDICATOR_WEIGHT_TOTAL).quantize(_CENT, ROUND_DOWN))
              for group, points in DEFAULT_SPLIT]
    leftover = int((total - sum(p for _, p in shares)) / _CENT)
    return tuple((group, points + (_CENT if i < leftover else 0)) for i, (group, points) in enumerate(shares))


def _fill_default_weights(table: ParsedTable, policy: scoring.Policy = scoring.DEFAULT_POLICY) -> None:
    if not table.indicators or any(i.weight is not None for i in table.indicators):
        return
    table.weights_defaulted = True
    split = _split(policy.indicator_weight_total)
    weights = default_weights([i.level1 for i in table.indicators], policy.indicator_weight_total)
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
    shares = "、".join(f"{group} {_points(points)}" for group, points in split)
    table.warnings.append(
        f"{where(table, table.line)}：原表未列指标分值权重，已按默认规则分配（{shares}，各级内平均）{note}。"
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
    return warnings


def _counts_people(indicator: ParsedIndicator, target: Target) -> bool:
    if "元" in target.unit or "%" in target.unit:
        return False  # 元/人/月 is a unit cost, 5% a rate: lower can be better
    name = indicator.name
    return any(word in name for word in _BENEFICIARY_WORDS) or target.unit.endswith(("人", "人次", "户"))


def _points(value: Decimal) -> str:
    """50, 44.45: points without trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _weight_warnings(table: ParsedTable, policy: scoring.Policy = scoring.DEFAULT_POLICY) -> list[str]:
    if not table.indicators:
        return [f"{where(table, table.line)}：没有读到任何指标行。"]
    if table.weights_defaulted:
        return []
    missing = [i for i in table.indicators if i.weight is None]
    warnings = [f"{where(table, i.line)}：指标“{i.name}”缺少分值权重，记为 0 分。" for i in missing]
    for indicator in missing:
        indicator.weight = Decimal(0)
    total = sum((i.weight for i in table.indicators), Decimal(0))
    expected = policy.indicator_weight_total
    if total != expected:
        warnings.append(f"{where(table, table.line)}：指标分值权重合计为 {total}，应为 {_points(expected)}"
                        f"（预算执行率另占 {_points(policy.execution_weight)} 分）。")
    return warnings


def _field_errors(table: ParsedTable) -> list[str]:
    """What the database would refuse, named by table, line and field (never a raw field error)."""
    errors = []
    head = where(table, table.line)
    if table.scope == "project" and table.project and len(table.project) > PROJECT_LENGTH:
        errors.append(f"{head}：项目名称超过 {PROJECT_LENGTH} 个字符（{len(table.project)} 个），请核对。")
    for label, value in (("项目负责人", table.lead or ""), ("部门联系人", table.contact), ("联系电话", table.phone)):
        if len(value) > PERSON_LENGTH:
            errors.append(f"{head}：{label}超过 {PERSON_LENGTH} 个字符（{len(value)} 个），请核对。")
    for label, amount in (("年度预算总额", table.total), ("财政拨款", table.fiscal), ("其他资金", table.other),
                          ("上级安排", table.fiscal_superior), ("本级安排", table.fiscal_local)):
        if amount is None:
            continue
        if amount < 0:
            errors.append(f"{head}：{label}为负数（{amount} 万元），请修正。")
        elif amount >= MONEY_LIMIT:
            errors.append(f"{head}：{label}“{amount}”万元超出可记录的范围，请核对单位是否为万元。")
    for indicator in table.indicators:
        place = f"{where(table, indicator.line)}：指标“{_short(indicator.name)}”"
        if not indicator.level1:
            errors.append(f"{place}没有一级指标，也无法从二级指标推断，请补上一级指标。")
        if not indicator.level2:
            errors.append(f"{place}没有二级指标，请补上二级指标。")
        for label, value, limit in (("一级指标", indicator.level1, LEVEL_LENGTH), ("二级指标", indicator.level2, LEVEL_LENGTH),
                                    ("三级指标（指标名称）", indicator.name, NAME_LENGTH),
                                    ("上年完成值", indicator.last_year, LAST_YEAR_LENGTH),
                                    ("计量单位", indicator.unit, INDICATOR_UNIT_LENGTH)):
            if len(value) > limit:
                errors.append(f"{place}的{label}超过 {limit} 个字符（{len(value)} 个），请核对。")
        weight = indicator.weight
        if weight is None:
            continue
        if not weight.is_finite():
            errors.append(f"{place}的分值权重不是有效的数字，请修正。")
        elif weight < 0:
            errors.append(f"{place}的分值权重为负数（{weight}），请修正。")
        elif weight > WEIGHT_LIMIT:
            errors.append(f"{place}的分值权重“{weight}”过大，请核对。")
    return errors
