"""Reads of rescoring: which policy each table is scored under."""
from __future__ import annotations

from collections.abc import Iterable

from kpi import scoring
from kpi.models import GoalTable, ScoringPolicy


def policies_by_table(tables: Iterable[GoalTable]) -> dict[int, scoring.Policy]:
    """The policy each table is scored under: its own, else the year's, else the all-years one, else the default."""
    rows = list(ScoringPolicy.objects.all())
    by_id = {p.pk: p.as_policy() for p in rows}
    by_year = {p.year: p.as_policy() for p in sorted(rows, key=lambda p: -p.pk)}
    fallback = by_year.get(None, scoring.DEFAULT_POLICY)
    return {t.pk: by_id[t.policy_id] if t.policy_id else by_year.get(t.year, fallback) for t in tables}
