"""Reads of rescoring: which scoring policy each goal table is scored under.

A table is scored under its own policy (`GoalTable.policy`) when it names one; else under the policy of
its year (the first created, when a year has several); else under the policy for all years (year left
blank, the first created); else under the built-in default (`kpi.scoring.DEFAULT_POLICY`, 默认评分政策).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from kpi import scoring
from kpi.models import GoalTable, ScoringPolicy


def policy_rows() -> list[ScoringPolicy]:
    """Every ScoringPolicy, oldest first: the order `governing_row` picks in. One query."""
    return list(ScoringPolicy.objects.order_by("pk"))


def governing_row(rows: Sequence[ScoringPolicy], *, year: int, policy_id: int | None) -> ScoringPolicy | None:
    """The row a table of `year` naming `policy_id` (or None) is scored under, among `rows` (oldest first;
    an unsaved row, pk None, counts as the newest); None: the built-in default."""
    if policy_id is not None:
        for row in rows:
            if row.pk == policy_id:
                return row
    for wanted in (year, None):
        for row in rows:
            if row.year == wanted:
                return row
    return None


def policies_by_table(tables: Iterable[GoalTable], *, rows: Sequence[ScoringPolicy] | None = None
                      ) -> dict[int, scoring.Policy]:
    """The policy each table is scored under (see the module docstring), by table id. One query (none when
    the rows are given)."""
    rows = policy_rows() if rows is None else rows
    pure = {id(row): row.as_policy() for row in rows}
    result = {}
    for table in tables:
        row = governing_row(rows, year=table.year, policy_id=table.policy_id)
        result[table.pk] = scoring.DEFAULT_POLICY if row is None else pure[id(row)]
    return result


def policy_for_table(table: GoalTable) -> scoring.Policy:
    """The policy one table is scored under. One query."""
    return policies_by_table([table])[table.pk]


def policy_for_year(year: int | None) -> scoring.Policy:
    """The policy a new table of the year (naming no policy of its own) will be scored under: what an import
    checks its weights against. One query; the default without a year."""
    if year is None:
        return scoring.DEFAULT_POLICY
    row = governing_row(policy_rows(), year=year, policy_id=None)
    return scoring.DEFAULT_POLICY if row is None else row.as_policy()


def table_policy_keys() -> list[tuple[int, int, int | None, int]]:
    """(table id, year, policy id, unit id) of every goal table: what deciding which tables a policy governs
    needs. One query."""
    return list(GoalTable.objects.order_by("pk").values_list("pk", "year", "policy_id", "unit_id"))


def tables_governed(rows: Sequence[ScoringPolicy], keys: Iterable[tuple[int, int, int | None, int]]
                    ) -> dict[int, ScoringPolicy | None]:
    """Per table id (from `table_policy_keys`), the row it is scored under among `rows` (None: the default)."""
    return {pk: governing_row(rows, year=year, policy_id=policy_id) for pk, year, policy_id, _unit in keys}
