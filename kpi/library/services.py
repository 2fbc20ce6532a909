"""Writes of the 指标库: built from every table, kept up to date as tables are imported or saved, curated.

The library is derived data: `library_sync_tables` upserts, for the given tables, one LibraryUse per
indicator under the entry of its `library_key` (the entry a synonym was merged into, when it was), and
recomputes the defaults of the entries it touched from all their uses. A fixed number of queries per batch
of tables, whatever the number of indicators; running it twice writes nothing the second time.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef

from kpi.enqueue import CommitBatch
from kpi.models import Actual, GoalTable, Indicator, LibraryEntry, LibraryUse

from .keys import library_key

BATCH = 200  # tables per batch: bounded IN lists, bounded memory
DEFAULT_FIELDS = ("level1", "level2", "name", "target_kind", "unit", "rule", "accumulation")
USE_FIELDS = ("entry_id", "unit_id", "year", "target_raw", "target_kind", "target_value", "target_unit",
              "actual_value", "actual_text")
MERGE_DEPTH = 10  # merge flattens chains; this only guards against a cycle written by hand
MET_TEXT = {True: "达成", False: "未达成"}
CURATED_FIELDS = ("explanation", "standard", "level1", "level2", "name", "target_kind", "unit", "rule",
                  "accumulation")


def library_build() -> dict:
    """Sync every table, in batches; the counts of the library afterwards."""
    table_ids = list(GoalTable.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(table_ids), BATCH):
        library_sync_tables(table_ids[start:start + BATCH])
    _recount()
    return {
        "tables": len(table_ids),
        "entries": LibraryEntry.objects.filter(merged_into__isnull=True).count(),
        "merged": LibraryEntry.objects.filter(merged_into__isnull=False).count(),
        "uses": LibraryUse.objects.count(),
        "recommended": LibraryEntry.objects.filter(recommended=True, merged_into__isnull=True).count(),
    }


def library_sync_tables(table_ids: Iterable[int]) -> None:
    """Upsert the entries and uses of these tables' indicators (idempotent; unknown ids are ignored)."""
    table_ids = sorted({int(pk) for pk in table_ids})
    for start in range(0, len(table_ids), BATCH):
        _sync_batch(table_ids[start:start + BATCH])


@transaction.atomic
def _sync_batch(table_ids: list[int]) -> None:
    rows = list(
        Indicator.objects.filter(table_id__in=table_ids).order_by("pk").values(
            "pk", "level1", "level2", "name", "target_raw", "target_kind", "target_value", "unit", "rule",
            "accumulation", "table__unit_id", "table__year",
        )
    )
    existing_uses = {use.indicator_id: use for use in LibraryUse.objects.filter(indicator__table_id__in=table_ids)}
    touched: set[int] = {use.entry_id for use in existing_uses.values()}
    finals = _final_actuals([row["pk"] for row in rows])

    keys = {library_key(row["level2"], row["name"]): row for row in rows}
    entries = {entry.key: entry for entry in LibraryEntry.objects.filter(key__in=list(keys))}
    missing = [key for key in keys if key not in entries]
    if missing:
        # ignore_conflicts: another sync may create the same key at the same time; read them back after.
        LibraryEntry.objects.bulk_create(
            [_new_entry(key, keys[key]) for key in missing], ignore_conflicts=True
        )
        entries.update({entry.key: entry for entry in LibraryEntry.objects.filter(key__in=missing)})
    canonical = _canonical_ids(entries.values())

    creates, updates = [], []
    for row in rows:
        entry_id = canonical[entries[library_key(row["level2"], row["name"])].pk]
        touched.add(entry_id)
        value, text = finals.get(row["pk"], (None, ""))
        wanted = {
            "entry_id": entry_id, "unit_id": row["table__unit_id"], "year": row["table__year"],
            "target_raw": row["target_raw"][:300], "target_kind": row["target_kind"],
            "target_value": row["target_value"], "target_unit": row["unit"][:50],
            "actual_value": value, "actual_text": text[:200],
        }
        use = existing_uses.get(row["pk"])
        if use is None:
            creates.append(LibraryUse(indicator_id=row["pk"], **wanted))
        elif any(getattr(use, name) != wanted[name] for name in USE_FIELDS):
            for name, value in wanted.items():
                setattr(use, name, value)
            updates.append(use)
    LibraryUse.objects.bulk_create(creates)
    if updates:
        LibraryUse.objects.bulk_update(updates, USE_FIELDS)
    _refresh_defaults(touched)
    _recount(touched)


def _new_entry(key: str, row: dict) -> LibraryEntry:
    return LibraryEntry(
        key=key[:400], level1=row["level1"][:50], level2=row["level2"][:50], name=row["name"][:300],
        target_kind=row["target_kind"], unit=row["unit"][:50], rule=row["rule"], accumulation=row["accumulation"],
    )


def _final_actuals(indicator_ids: list[int]) -> dict[int, tuple[Decimal | None, str]]:
    """Per indicator, the latest actual of an approved report: (its value, or a text for met / grade)."""
    finals: dict[int, tuple[Decimal | None, str]] = {}
    actuals = (Actual.objects.approved().filter(indicator_id__in=indicator_ids)
               .only("indicator_id", "value", "met", "grade").finals())
    for indicator_id, actual in actuals.items():
        if actual.value is not None:
            finals[indicator_id] = (actual.value, "")
        elif actual.grade:
            finals[indicator_id] = (None, actual.grade)
        elif actual.met is not None:
            finals[indicator_id] = (None, MET_TEXT[actual.met])
    return finals


def _canonical_ids(entries: Iterable[LibraryEntry]) -> dict[int, int]:
    """Each entry's id → the id of the entry it stands for (itself, or the end of its merged_into chain)."""
    target = {entry.pk: entry.merged_into_id for entry in entries}
    for _ in range(MERGE_DEPTH):
        unknown = {t for t in target.values() if t is not None and t not in target}
        if not unknown:
            break
        target.update(LibraryEntry.objects.filter(pk__in=unknown).values_list("pk", "merged_into_id"))
    result = {}
    for pk in target:
        current, seen = pk, set()
        while target.get(current) is not None and current not in seen:
            seen.add(current)
            current = target[current]
        result[pk] = current
    return result


def _most_common(values: list):
    """The value written most often; ties go to the one seen first (lowest indicator id)."""
    return Counter(values).most_common(1)[0][0] if values else None


def _refresh_defaults(entry_ids: set[int]) -> None:
    """The defaults of the (not curated) entries from all their uses, written only where they changed."""
    if not entry_ids:
        return
    entries = {entry.pk: entry for entry in LibraryEntry.objects.filter(pk__in=entry_ids, curated=False)}
    if not entries:
        return
    seen: dict[int, list[dict]] = defaultdict(list)
    for row in (LibraryUse.objects.filter(entry_id__in=list(entries)).order_by("indicator_id").values(
            "entry_id", "indicator__level1", "indicator__level2", "indicator__name", "indicator__target_kind",
            "indicator__unit", "indicator__rule", "indicator__accumulation")):
        seen[row["entry_id"]].append(row)
    changed = []
    for pk, entry in entries.items():
        rows = seen.get(pk)
        if not rows:
            continue
        # Names as written by the entry's own spellings when it has any (a merged synonym's spelling does
        # not rename the entry it was merged into); the other defaults from every use.
        own = [r for r in rows if library_key(r["indicator__level2"], r["indicator__name"]) == entry.key] or rows
        wanted = {
            "level1": _most_common([r["indicator__level1"] for r in own])[:50],
            "level2": _most_common([r["indicator__level2"] for r in own])[:50],
            "name": _most_common([r["indicator__name"] for r in own])[:300],
            "target_kind": _most_common([r["indicator__target_kind"] for r in rows]),
            "unit": _most_common([r["indicator__unit"] for r in rows])[:50],
            "rule": _most_common([r["indicator__rule"] for r in rows]),
            "accumulation": _most_common([r["indicator__accumulation"] for r in rows]),
        }
        if any(getattr(entry, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(entry, name, value)
            changed.append(entry)
    if changed:
        LibraryEntry.objects.bulk_update(changed, DEFAULT_FIELDS)


def _recount(entry_ids: set[int] | None = None) -> None:
    """Set uses_count where it is off: of these entries, and of any entry whose stored count is off (uses
    also go when their indicator is deleted, which cascades without telling the library). One query finds
    them. An entry of these left with no use, never curated, recommended or merged, is removed (a renamed
    indicator's old spelling)."""
    stale = list(LibraryEntry.objects.annotate(n=Count("uses")).exclude(uses_count=F("n")).only("pk", "uses_count"))
    for entry in stale:
        entry.uses_count = entry.n
    if stale:
        LibraryEntry.objects.bulk_update(stale, ["uses_count"])
    if entry_ids:
        orphans = LibraryEntry.objects.filter(
            pk__in=list(entry_ids), uses_count=0, curated=False, recommended=False, merged_into__isnull=True,
        ).exclude(Exists(LibraryEntry.objects.filter(merged_into=OuterRef("pk")))).exclude(
            Exists(LibraryUse.objects.filter(entry=OuterRef("pk"))))
        orphans.delete()


# --- kept up to date after commits -----------------------------------------------------------------------

def library_sync_soon(*, table_ids: Iterable[int]) -> None:
    """Sync these tables into the library once the current transaction commits (now, outside one).

    A table built row by row in one transaction is synced once (kpi.enqueue.CommitBatch); a rolled-back
    transaction's tables are not synced by the next one. Robust: a failure is logged and never undoes or fails
    the save that asked (library_build repairs it).
    """
    _syncs.add(table_ids)


_syncs = CommitBatch(lambda table_ids: library_sync_tables(table_ids), robust=True)


# --- curation --------------------------------------------------------------------------------------------

@transaction.atomic
def library_entry_update(*, entry: LibraryEntry, user: AbstractBaseUser | None = None) -> LibraryEntry:
    """Save a curated entry (explanation, standard, defaults, recommended): marked curated, so a rebuild
    keeps its defaults; the change is kept in its history."""
    if entry.merged_into_id:
        raise ValidationError("该条目已归并到其他条目，请修改归并后的条目。")
    entry.curated = True
    entry.full_clean(exclude=["key"])
    entry._history_user = user
    entry.save()
    return entry


@transaction.atomic
def library_entry_set_recommended(*, entry: LibraryEntry, recommended: bool,
                                  user: AbstractBaseUser | None = None) -> LibraryEntry:
    if entry.merged_into_id:
        raise ValidationError("该条目已归并到其他条目，不能单独推荐。")
    entry.recommended = bool(recommended)
    entry._history_user = user
    entry.save(update_fields=["recommended", "updated_at"])
    return entry


@transaction.atomic
def library_entry_merge(*, entry: LibraryEntry, into: LibraryEntry,
                        user: AbstractBaseUser | None = None) -> LibraryEntry:
    """Merge a synonym into another entry: its uses (and its own synonyms) move there; the synonym stays,
    pointing at the entry, so the tables that spell it so keep landing there. Returns the entry merged into."""
    entry = LibraryEntry.objects.select_for_update().get(pk=entry.pk)
    into = LibraryEntry.objects.select_for_update().get(pk=into.pk)
    if into.merged_into_id:
        raise ValidationError(f"“{into.name}”本身已归并到其他条目，请选择归并后的条目。")
    if entry.pk == into.pk:
        raise ValidationError("不能把条目归并到它自己。")
    if entry.merged_into_id:
        raise ValidationError("该条目已归并过。")
    LibraryUse.objects.filter(entry=entry).update(entry=into)
    for synonym in LibraryEntry.objects.filter(merged_into=entry):
        synonym.merged_into = into
        synonym._history_user = user
        synonym.save(update_fields=["merged_into", "updated_at"])
    entry.merged_into = into
    entry.recommended = False
    entry.uses_count = 0
    entry._history_user = user
    entry.save(update_fields=["merged_into", "recommended", "uses_count", "updated_at"])
    _refresh_defaults({into.pk})
    _recount({into.pk})
    into.refresh_from_db()
    return into

