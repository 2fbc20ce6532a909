"""The quality review's facts, read from the database (the rules are in `kpi.goals.review`, pure).

`table_findings(table)` and `unit_findings(unit_id, year)` read in a fixed number of queries whatever the
number of rows: the tables, the scoring policies, the indicators (with the ones they were copied from), the
final approved actuals of those, and the 指标库 entries of the rows.
"""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from kpi import scoring
from kpi.goals.review import PROJECT, UNIT, Finding, RowFacts, TableFacts, convert_unit, review
from kpi.library.keys import library_key
from kpi.models import Actual, GoalTable, Indicator, LibraryEntry
from kpi.rescoring.selectors import policies_by_table
from kpi.targets import Kind, parse_target

__all__ = ["table_facts", "table_findings", "unit_findings"]

_QUANTITIES = frozenset({Kind.POSITIVE, Kind.REVERSE, Kind.EQUALS})


def table_findings(table: GoalTable, *, indicators: Sequence[Indicator] | None = None,
                   policy: scoring.Policy | None = None) -> list[Finding]:
    """The quality-review findings of one goal table, whole-table ones first, then by row.

    Four queries at most (five when the table's project or unit was not loaded with it); a page that has
    already read the table's indicators as saved (in order, with `previous`) or its policy passes them."""
    return _findings([table], indicators=indicators, policies=None if policy is None else {table.pk: policy})


def unit_findings(unit_id: int, year: int) -> list[Finding]:
    """The findings of every goal table of the unit and year: the 部门整体 table first, then the projects by
    name. Five queries at most, whatever the number of tables and rows."""
    tables = list(
        GoalTable.objects.filter(unit_id=unit_id, year=year).select_related("unit", "project")
        .order_by("-scope", "project__name", "pk")  # "unit" > "project": the 部门整体 table first
    )
    return _findings(tables)


def table_facts(tables: Sequence[GoalTable], *, indicators: Sequence[Indicator] | None = None,
                policies: dict[int, scoring.Policy] | None = None) -> dict[int, TableFacts]:
    """The review's facts of each table, by table id (the query budget of `unit_findings`). `indicators` and
    `policies`, when the caller has them: every indicator of these tables in table and row order (with
    `previous`), the policy of each table."""
    if not tables:
        return {}
    if policies is None:
        policies = policies_by_table(tables)
    if indicators is None:
        indicators = list(
            Indicator.objects.filter(table__in=[t.pk for t in tables]).select_related("previous")
            .order_by("table_id", "order", "pk")
        )
    finals = _final_actuals([i.previous_id for i in indicators if i.previous_id])
    kinds = _library_kinds({library_key(i.level2, i.name) for i in indicators})
    rows: dict[int, list[RowFacts]] = {t.pk: [] for t in tables}
    for indicator in indicators:
        own = rows[indicator.table_id]
        own.append(_row_facts(indicator, line=len(own) + 1, finals=finals, kinds=kinds))
    return {
        table.pk: TableFacts(
            name=_table_name(table),
            rows=tuple(rows[table.pk]),
            scope=UNIT if table.scope == GoalTable.Scope.UNIT else PROJECT,
            expected_weight_total=policies[table.pk].indicator_weight_total,
        )
        for table in tables
    }


def _findings(tables: Sequence[GoalTable], **known) -> list[Finding]:
    facts = table_facts(tables, **known)
    return [finding for table in tables for finding in review(facts[table.pk])]


def _table_name(table: GoalTable) -> str:
    return table.project.name if table.project_id else table.unit.name


def _row_facts(indicator: Indicator, *, line: int, finals: dict[int, Decimal | None],
               kinds: dict[str, Kind]) -> RowFacts:
    kind = Kind(indicator.target_kind)
    return RowFacts(
        line=line,
        level1=indicator.level1,
        level2=indicator.level2,
        name=indicator.name,
        target_raw=indicator.target_raw,
        kind=kind,
        value=indicator.target_value,
        upper=indicator.target_upper,
        unit=indicator.unit,
        flags=tuple(indicator.target_flags or ()),
        weight=indicator.weight,
        not_applicable=indicator.not_applicable,
        last_year_actual=_last_year_actual(indicator, finals),
        library_kind=kinds.get(library_key(indicator.level2, indicator.name)),
    )


def _last_year_actual(indicator: Indicator, finals: dict[int, Decimal | None]) -> Decimal | None:
    """上年完成值 as a number in this target's unit: the final approved actual of the indicator this one was
    copied from, else the 上年完成值 text when it reads as a number in a comparable unit."""
    previous = indicator.previous
    if previous is not None and finals.get(previous.pk) is not None:
        converted = convert_unit(finals[previous.pk], previous.unit, indicator.unit)
        if converted is not None:
            return converted
    text = (indicator.last_year or "").strip()
    if not text:
        return None
    parsed = parse_target(text)
    if parsed.kind not in _QUANTITIES or parsed.value is None:
        return None
    # "87人" against a target in 人; a bare "95" for a target in % is taken as written in its unit.
    return convert_unit(parsed.value, parsed.unit or indicator.unit, indicator.unit)


def _final_actuals(indicator_ids: list[int]) -> dict[int, Decimal | None]:
    """Per indicator, the value of its latest actual of an approved report (None: it was met/graded). One
    query; none without ids."""
    if not indicator_ids:
        return {}
    finals = Actual.objects.approved().filter(indicator_id__in=indicator_ids).only("indicator_id", "value").finals()
    return {indicator_id: actual.value for indicator_id, actual in finals.items()}


def _library_kinds(keys: set[str]) -> dict[str, Kind]:
    """Per library key, the target kind of its 指标库 entry (of the entry it was merged into, two merges
    deep). One query; none without keys."""
    if not keys:
        return {}
    kinds = {}
    entries = LibraryEntry.objects.filter(key__in=keys).select_related("merged_into__merged_into")
    for entry in entries:
        current = entry
        for _ in range(2):
            if current.merged_into_id is None:
                break
            current = current.merged_into
        kinds[entry.key] = Kind(current.target_kind)
    return kinds
