"""Building the 指标库 and keeping it up to date (kpi/library/services.py)."""
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpi.goals.services import indicator_create, indicator_delete, indicator_update
from kpi.importers.services import document_read, goal_tables_import
from kpi.library import services
from kpi.library.keys import library_key
from kpi.models import Indicator, LibraryEntry, LibraryUse
from kpi.reports.services import actual_record
from tests.factories import ProjectFactory, UnitFactory, approve_reports, table_with_indicators

from .conftest import rows

pytestmark = pytest.mark.django_db
DEC = dt.date(2026, 12, 31)
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def entry(level2="质量指标", name="合格率"):
    return LibraryEntry.objects.get(key=library_key(level2, name))


def writes(queries):
    return [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]


def test_build_groups_indicators_by_key_and_counts(tree):
    counts = services.library_build()
    assert counts == {"tables": 4, "entries": 4, "merged": 0, "uses": 16, "recommended": 0}
    rate = entry()
    assert rate.uses_count == 4 and rate.level1 == "产出指标" and rate.target_kind == "positive"
    assert rate.unit == "%" and rate.rule == "按照完成比例赋分" and rate.accumulation == "level"
    assert sorted(rate.uses.values_list("target_raw", flat=True)) == [">=90%", ">=95%", ">=95%", ">=98%"]
    assert entry("数量指标", "培训人次").accumulation == "cumulative"


def test_build_twice_changes_nothing(tree):
    first = services.library_build()
    with CaptureQueriesContext(connection) as queries:
        second = services.library_build()
    assert first == second and writes(queries) == []


def test_spellings_of_one_indicator_share_an_entry_named_as_most_often_written(tree):
    unit = UnitFactory(name="示范单位9", parent=tree["parent"])
    table_with_indicators(ProjectFactory(unit=unit), rows(">=95%", name="（合格 率）"))
    services.library_build()
    rate = entry()
    assert rate.uses_count == 5 and rate.name == "合格率"
    assert LibraryEntry.objects.filter(key=library_key("质量指标", "（合格 率）")).get() == rate


def test_final_approved_actual_is_kept_value_or_text(tree):
    table, indicators = tree["tables"][0]
    actual_record(indicator=indicators[1], as_of=dt.date(2026, 7, 31), value=Decimal("91"))
    actual_record(indicator=indicators[1], as_of=DEC, value=Decimal("96.5"), deviation_reason="说明",
                  deviation_category="其他")
    approve_reports(table)
    deadline = indicator_create(table=table, level1="产出指标", level2="时效指标", name="按时完成率",
                                target_raw="2026年12月31日", weight=Decimal("0"))
    actual_record(indicator=deadline, as_of=DEC, met=True)
    approve_reports(table)
    actual_record(indicator=indicators[0], as_of=dt.date(2026, 11, 30), value=Decimal("1"))  # a draft: not final
    services.library_sync_tables([table.pk])
    assert LibraryUse.objects.get(indicator=indicators[1]).actual_value == Decimal("96.5")
    assert LibraryUse.objects.get(indicator=deadline).actual_text == "达成"
    draft = LibraryUse.objects.get(indicator=indicators[0])
    assert draft.actual_value is None and draft.actual_text == ""


def test_curated_entry_keeps_its_defaults(tree):
    services.library_build()
    rate = entry()
    rate.unit, rate.explanation = "个", "合格人数 / 参训人数"
    services.library_entry_update(entry=rate)
    services.library_build()
    rate.refresh_from_db()
    assert rate.curated and rate.unit == "个" and rate.explanation == "合格人数 / 参训人数"


def test_deleted_and_renamed_indicators_leave_their_entries(tree):
    services.library_build()
    table, indicators = tree["tables"][0]
    indicator_delete(indicator=indicators[0])
    renamed = Indicator.objects.get(pk=indicators[1].pk)
    renamed.name = "培训合格率"
    indicator_update(indicator=renamed)
    services.library_sync_tables([table.pk])
    assert entry("数量指标", "培训人次").uses_count == 3
    assert entry().uses_count == 3
    assert LibraryUse.objects.get(indicator=renamed).entry == entry("质量指标", "培训合格率")


def test_an_entry_left_without_uses_goes(tree):
    unit = UnitFactory(name="单用单位", parent=tree["parent"])
    table, indicators = table_with_indicators(ProjectFactory(unit=unit), rows(">=95%", name="独有指标"))
    services.library_build()
    renamed = Indicator.objects.get(pk=indicators[1].pk)
    renamed.name = "独有指标二"
    indicator_update(indicator=renamed)
    services.library_sync_tables([table.pk])
    assert not LibraryEntry.objects.filter(key=library_key("质量指标", "独有指标")).exists()


def test_merged_synonym_keys_land_in_the_entry_merged_into(tree):
    unit = UnitFactory(name="示范单位8", parent=tree["parent"])
    table, _ = table_with_indicators(ProjectFactory(unit=unit), rows(">=95%", name="培训合格率"))
    services.library_build()
    synonym, into = entry("质量指标", "培训合格率"), entry()
    services.library_entry_merge(entry=synonym, into=into)
    into.refresh_from_db()
    synonym.refresh_from_db()
    assert into.uses_count == 5 and synonym.uses_count == 0 and synonym.merged_into == into
    assert into.name == "合格率"  # its own spelling, not the synonym's
    # a new table spelling it the synonym's way lands in the entry merged into, also after a rebuild
    other = UnitFactory(name="示范单位7", parent=tree["parent"])
    table2, _ = table_with_indicators(ProjectFactory(unit=other), rows(">=97%", name="培训合格率"))
    services.library_build()
    into.refresh_from_db()
    assert into.uses_count == 6 and not LibraryUse.objects.filter(entry=synonym).exists()
    assert synonym.history.filter(merged_into=into).exists()  # the merge is in the synonym's history


def test_merge_refuses_itself_and_merged_targets(tree):
    services.library_build()
    rate, count = entry(), entry("数量指标", "培训人次")
    with pytest.raises(ValidationError, match="自己"):
        services.library_entry_merge(entry=rate, into=rate)
    services.library_entry_merge(entry=count, into=rate)
    with pytest.raises(ValidationError, match="已归并到其他条目"):
        services.library_entry_merge(entry=entry("经济成本指标", "人均成本"), into=count)


def test_queries_do_not_grow_with_the_number_of_tables(tree):
    ids = [table.pk for table, _ in tree["tables"]]
    LibraryEntry.objects.all().delete()
    with CaptureQueriesContext(connection) as two:
        services.library_sync_tables(ids[:2])
    LibraryEntry.objects.all().delete()
    with CaptureQueriesContext(connection) as four:
        services.library_sync_tables(ids)
    assert len(four) == len(two)


def test_unknown_ids_are_ignored():
    services.library_sync_tables([987654])
    assert not LibraryEntry.objects.exists()


# --- kept up to date -------------------------------------------------------------------------------------

def test_saving_an_indicator_syncs_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    table, _ = table_with_indicators(ProjectFactory())
    assert not LibraryEntry.objects.exists()  # nothing before the commit
    synced = []
    real = services.library_sync_tables
    monkeypatch.setattr(services, "library_sync_tables", lambda ids: synced.append(sorted(ids)) or real(ids))
    with django_capture_on_commit_callbacks(execute=True):
        indicator_create(table=table, level1="产出指标", level2="数量指标", name="宣传场次", target_raw=">=12场",
                         weight=Decimal("5"))
        indicator_create(table=table, level1="产出指标", level2="数量指标", name="宣传人次", target_raw=">=500人次",
                         weight=Decimal("5"))
    assert len(synced) == 1 and table.pk in synced[0]  # one sync for the whole transaction
    assert LibraryUse.objects.filter(indicator__table=table).count() == 6


def test_approving_a_report_syncs_its_final_actuals(django_capture_on_commit_callbacks):
    table, indicators = table_with_indicators(ProjectFactory())
    services.library_sync_tables([table.pk])
    actual_record(indicator=indicators[1], as_of=DEC, value=Decimal("97"), deviation_reason="说明",
                  deviation_category="其他")
    with django_capture_on_commit_callbacks(execute=True):
        approve_reports(table)
    assert LibraryUse.objects.get(indicator=indicators[1]).actual_value == Decimal("97")


def test_an_import_syncs_the_tables_it_wrote(django_capture_on_commit_callbacks):
    demo = Path(__file__).resolve().parents[3] / "kpi" / "demo" / "demo-disclosure-2026.txt"
    document = document_read(data=demo.read_bytes(), filename=demo.name)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = goal_tables_import(document=document)
    imported = Indicator.objects.filter(table_id__in=[t.table_id for t in outcome.tables if t.table_id]).count()
    assert imported and LibraryUse.objects.count() == imported


def test_a_dry_run_import_leaves_the_library_alone(django_capture_on_commit_callbacks):
    demo = Path(__file__).resolve().parents[3] / "kpi" / "demo" / "demo-disclosure-2026.txt"
    document = document_read(data=demo.read_bytes(), filename=demo.name)
    with django_capture_on_commit_callbacks(execute=True):
        goal_tables_import(document=document, dry_run=True)
    assert not LibraryEntry.objects.exists()


def test_command_prints_counts_in_chinese_and_json(tree, capsys):
    call_command("library_build")
    out = capsys.readouterr().out
    assert "指标库已更新" in out and "目标表 4 张" in out and "使用记录 16 条" in out
    call_command("library_build", "--json")
    assert '"entries": 4' in capsys.readouterr().out
