"""Reads of the 评分政策 pages, scoped to the user.

A policy scores every table of its year (or of every year) that names no policy of its own, in whichever
unit: so a reviewer manages only the policies whose tables all lie in units they may see (a policy no table
uses yet, too); a superuser manages every one. A fixed number of queries, whatever the number of tables.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet

from budgets.selectors import units_for_user
from kpi import scoring
from kpi.models import GoalTable, ScoringPolicy
from kpi.permissions import can_manage_policies
from kpi.rescoring.selectors import policy_rows, table_policy_keys, tables_governed


def _visible_unit_ids(user) -> set[int] | None:
    """The units whose tables the user may see; None: every unit (a superuser)."""
    if user.is_superuser:
        return None
    return set(units_for_user(user=user).values_list("pk", flat=True))


@dataclass
class PolicyRow:
    """One line of the policy list: the policy (None: the built-in default), how many tables it scores now."""

    policy: ScoringPolicy | None
    pure: scoring.Policy
    tables: int
    years: list[int] = field(default_factory=list)  # the years of the tables it scores

    @property
    def name(self) -> str:
        return self.pure.name


@dataclass
class PolicyOverview:
    rows: list[PolicyRow]  # the default first, then the user's policies, newest year first
    hidden: int  # policies the user may not manage (they score tables of units the user cannot see)


def _manageable(rows, keys, visible: set[int] | None) -> tuple[set[int], dict[int | None, list[tuple]]]:
    """(ids of the policies the user may manage, the table keys each policy id scores (None: the default))."""
    governed = tables_governed(rows, keys)
    units = {pk: unit for pk, _year, _policy, unit in keys}
    by_policy: dict[int | None, list[tuple]] = defaultdict(list)
    for key in keys:
        row = governed[key[0]]
        by_policy[row.pk if row is not None else None].append(key)
    if visible is None:
        return {row.pk for row in rows}, by_policy
    ids = {row.pk for row in rows
           if all(units[key[0]] in visible for key in by_policy.get(row.pk, ()))}
    return ids, by_policy


def policies_for_user(*, user) -> QuerySet[ScoringPolicy]:
    """The policies the user may open, copy and edit (none for anyone but finance-side users)."""
    if not can_manage_policies(user):
        return ScoringPolicy.objects.none()
    if user.is_superuser:
        return ScoringPolicy.objects.all()
    ids, _ = _manageable(policy_rows(), table_policy_keys(), _visible_unit_ids(user))
    return ScoringPolicy.objects.filter(pk__in=ids)


def policy_overview(*, user) -> PolicyOverview:
    """The list page: the built-in default and every policy the user may manage, each with the number and
    years of the tables it scores now; how many others there are. Four queries or so, whatever the size."""
    rows = policy_rows()
    keys = table_policy_keys()
    ids, by_policy = _manageable(rows, keys, _visible_unit_ids(user))

    def line(policy, pure, pk) -> PolicyRow:
        scored = by_policy.get(pk, [])
        return PolicyRow(policy, pure, len(scored), sorted(Counter(year for _pk, year, _p, _u in scored), reverse=True))

    mine = [line(row, row.as_policy(), row.pk) for row in rows if row.pk in ids]
    mine.sort(key=lambda r: (-(r.policy.year or 0), r.policy.name))
    return PolicyOverview([line(None, scoring.DEFAULT_POLICY, None), *mine], hidden=len(rows) - len(ids))


def tables_outside(*, user, table_ids: Iterable[int]) -> int:
    """How many of these tables lie in units the user may not see (0 for a superuser)."""
    if user.is_superuser:
        return 0
    return GoalTable.objects.filter(pk__in=list(table_ids)).exclude(
        unit__in=units_for_user(user=user)).count()


def other_policy_of_year(*, policy: ScoringPolicy) -> ScoringPolicy | None:
    """An older policy of the same year (or of all years) that tables of that year follow instead of this
    one: a new policy of a year that has one scores no table unless a table names it."""
    older = ScoringPolicy.objects.filter(year=policy.year).order_by("pk")
    if policy.pk:
        older = older.filter(pk__lt=policy.pk)
    return older.first()
