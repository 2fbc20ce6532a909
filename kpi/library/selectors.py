"""Reads of the 指标库: entries by key, search for the editor's picker, the list and detail pages, and where
a table's targets stand among other units' (peer notes for reviewers).

Scoping: a province's library is its own. A user sees the entries used in the unit trees they belong to
(the whole tree under the top unit of each unit they hold a role in or lead a project of); a superuser sees
every entry. A synonym merged into another entry is seen through that entry.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet

from budgets.models import Project, UnitMembership
from budgets.selectors import unit_tree_ids
from kpi.formatting import plain_decimal
from kpi.models import GoalTable, Indicator, LibraryEntry, LibraryUse

from . import peers
from .keys import library_key, normalise_name

MAX_QUERY = 100  # characters of a search: longer is refused, never searched
MAX_LIMIT = 50
MERGE_DEPTH = 10
NUMERIC_KINDS = (Indicator.TargetKind.POSITIVE, Indicator.TargetKind.REVERSE, Indicator.TargetKind.EQUALS)


def entry_for(level2: str, name: str) -> LibraryEntry | None:
    """The library entry of a 二级/三级 pair (the entry it was merged into, when it was a synonym)."""
    entry = LibraryEntry.objects.filter(key=library_key(level2 or "", name or "")).first()
    for _ in range(MERGE_DEPTH):
        if entry is None or entry.merged_into_id is None:
            return entry
        entry = LibraryEntry.objects.filter(pk=entry.merged_into_id).first()
    return entry


# --- scoping ---------------------------------------------------------------------------------------------

def library_unit_ids(*, user) -> set[int] | None:
    """The units whose uses the user may see in the library; None: every unit (a superuser). The whole
    tree of every unit they hold a role in or lead a project of; three queries."""
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return None
    return _tree_units_of(user)


def _tree_units_of(user) -> set[int]:
    known = set(UnitMembership.objects.filter(user=user).values_list("unit_id", flat=True))
    known |= set(Project.objects.filter(lead=user).values_list("unit_id", flat=True))
    if not known:
        return set()
    return unit_tree_ids(unit_ids=known)


def _visible(entries: QuerySet, unit_ids: set[int] | None) -> QuerySet:
    if unit_ids is None:
        return entries
    return entries.filter(Exists(LibraryUse.objects.filter(entry=OuterRef("pk"), unit_id__in=unit_ids)))


def entries_for_user(*, user) -> QuerySet[LibraryEntry]:
    """The entries (not merged away) the user may see."""
    return _visible(LibraryEntry.objects.filter(merged_into__isnull=True), library_unit_ids(user=user))


def entry_for_user(*, user, pk: int) -> LibraryEntry | None:
    """One entry the user may see; a merged synonym gives the entry it was merged into. None: not there."""
    entry = LibraryEntry.objects.filter(pk=pk).first()
    for _ in range(MERGE_DEPTH):
        if entry is None or entry.merged_into_id is None:
            break
        entry = LibraryEntry.objects.filter(pk=entry.merged_into_id).first()
    if entry is None or entry.merged_into_id is not None:
        return None
    return entries_for_user(user=user).filter(pk=entry.pk).first()


# --- search ----------------------------------------------------------------------------------------------

def clean_query(q: str | None) -> str:
    """The search text, trimmed; ValidationError (Chinese) when it is too long or holds control characters."""
    q = (q or "").strip()
    if len(q) > MAX_QUERY:
        raise ValidationError(f"搜索内容过长（最多 {MAX_QUERY} 个字）。")
    if any(ord(ch) < 32 for ch in q):
        raise ValidationError("搜索内容含有无法识别的字符。")
    return q


def matching(entries: QuerySet, q: str) -> QuerySet:
    """Entries whose 三级 or 二级 name holds the text (as typed, or folded like the keys are)."""
    if not q:
        return entries
    folded = normalise_name(q)
    condition = Q(name__icontains=q) | Q(level2__icontains=q)
    if folded:
        condition |= Q(key__contains=folded)
    return entries.filter(condition)


def library_search(q: str, level1: str | None = None, limit: int = 20, *, user=None) -> list[dict]:
    """The picker's results: matching entries, recommended first, then the most used; each with its
    defaults and the target seen most often. Three queries. `user` narrows to what they may see."""
    q = clean_query(q)
    limit = max(1, min(int(limit), MAX_LIMIT))
    entries = (entries_for_user(user=user) if user is not None
               else LibraryEntry.objects.filter(merged_into__isnull=True))
    entries = matching(entries, q)
    if level1:
        entries = entries.filter(level1=level1[:50])
    found = list(entries.order_by("-recommended", "-uses_count", "level1", "level2", "name", "pk")[:limit])
    typical = typical_targets([entry.pk for entry in found])
    return [
        {
            "id": entry.pk, "level1": entry.level1, "level2": entry.level2, "name": entry.name,
            "target": typical.get(entry.pk, ""), "unit": entry.unit, "rule": entry.rule,
            "accumulation": entry.accumulation, "explanation": entry.explanation, "standard": entry.standard,
            "recommended": entry.recommended, "uses": entry.uses_count,
        }
        for entry in found
    ]


def typical_targets(entry_ids: list[int]) -> dict[int, str]:
    """Per entry, the 指标值 written most often (ties: the latest year's)."""
    counts: dict[int, Counter] = defaultdict(Counter)
    latest: dict[tuple[int, str], int] = {}
    for entry_id, raw, year in LibraryUse.objects.filter(entry_id__in=entry_ids).values_list(
            "entry_id", "target_raw", "year"):
        counts[entry_id][raw] += 1
        latest[(entry_id, raw)] = max(latest.get((entry_id, raw), 0), year)
    return {
        entry_id: max(counter, key=lambda raw, e=entry_id, c=counter: (c[raw], latest[(e, raw)], raw))
        for entry_id, counter in counts.items()
    }


def library_level1_choices() -> list[str]:
    return list(LibraryEntry.objects.filter(merged_into__isnull=True).order_by("level1")
                .values_list("level1", flat=True).distinct())


def library_level2_choices() -> list[str]:
    return list(LibraryEntry.objects.filter(merged_into__isnull=True).order_by("level2")
                .values_list("level2", flat=True).distinct())


# --- detail ----------------------------------------------------------------------------------------------

def entry_uses(*, entry: LibraryEntry, user) -> list[LibraryUse]:
    """The targets and actuals seen for the entry, newest year first, in the units the user may see."""
    uses = entry.uses.select_related("unit", "indicator__table__project").order_by("-year", "unit__name", "pk")
    unit_ids = library_unit_ids(user=user)
    if unit_ids is not None:
        uses = uses.filter(unit_id__in=unit_ids)
    return list(uses)


def entry_synonyms(*, entry: LibraryEntry) -> list[LibraryEntry]:
    return list(entry.synonyms.order_by("level2", "name"))


def use_actual_text(use: LibraryUse) -> str:
    """The final approved actual as shown: the value with its unit, or the met / grade text; "" when none."""
    if use.actual_value is not None:
        return f"{plain_decimal(use.actual_value)}{use.target_unit}"
    return use.actual_text


def merge_candidates(*, entry: LibraryEntry, user, q: str = "", limit: int = 30) -> list[LibraryEntry]:
    """Entries the user may merge this one into: visible, not merged, not itself; matching q."""
    entries = matching(entries_for_user(user=user).exclude(pk=entry.pk), clean_query(q))
    if not q:
        entries = entries.filter(level2=entry.level2)
    return list(entries.order_by("-recommended", "-uses_count", "name")[:limit])


# --- peer notes ------------------------------------------------------------------------------------------

def peer_notes(table: GoalTable) -> dict[int, str]:
    """Indicator id → where its numeric target stands among other units' targets for the same entry (that
    year, else the year before; only with ≥ 3 other units, in the same 计量单位). Two queries."""
    own = list(LibraryUse.objects.filter(indicator__table=table).values_list(
        "indicator_id", "entry_id", "target_kind", "target_value", "target_unit"))
    own = [row for row in own if row[3] is not None and row[2] in NUMERIC_KINDS]
    if not own:
        return {}
    entry_ids = {row[1] for row in own}
    # per (entry, year, unit of measure): the other units' targets, one list per unit
    seen: dict[tuple[int, int, str], dict[int, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for entry_id, year, unit_id, value, unit in (
        LibraryUse.objects.filter(entry_id__in=entry_ids, year__in=(table.year, table.year - 1),
                                  target_value__isnull=False, target_kind__in=NUMERIC_KINDS)
        .exclude(unit_id=table.unit_id)
        .values_list("entry_id", "year", "unit_id", "target_value", "target_unit")
    ):
        seen[(entry_id, year, unit)][unit_id].append(value)
    notes = {}
    for indicator_id, entry_id, kind, value, unit in own:
        for year in (table.year, table.year - 1):
            by_unit = seen.get((entry_id, year, unit), {})
            if len(by_unit) < peers.MIN_PEERS:
                continue
            others = [Decimal(statistics.median(sorted(values))) for values in by_unit.values()]
            result = peers.standing(value, others, reverse=kind == Indicator.TargetKind.REVERSE)
            if result is not None:
                text = peers.standing_text(result, unit)
                notes[indicator_id] = text if year == table.year else f"{text}（参照 {year} 年）"
            break
    return notes
