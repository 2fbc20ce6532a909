"""Reads of the 指标库: entry_for, search, scoping, peer notes (kpi/library/selectors.py)."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kpi.library import selectors, services
from kpi.library.keys import library_key
from kpi.models import LibraryEntry
from tests.factories import ProjectFactory, UnitFactory, table_with_indicators

from .conftest import rows

pytestmark = pytest.mark.django_db


def test_entry_for_follows_merged_into(tree):
    services.library_build()
    assert selectors.entry_for("质量指标", " 合格率 ").name == "合格率"
    assert selectors.entry_for("质量指标", "没有的指标") is None
    count = selectors.entry_for("数量指标", "培训人次")
    rate = selectors.entry_for("质量指标", "合格率")
    services.library_entry_merge(entry=count, into=rate)
    assert selectors.entry_for("数量指标", "培训人次") == rate


def test_search_recommended_first_then_by_uses_with_the_contract_keys(tree):
    unit = UnitFactory(name="示范单位5", parent=tree["parent"])
    table_with_indicators(ProjectFactory(unit=unit), rows(">=95%", name="结业率"))
    services.library_build()
    results = selectors.library_search("率")
    assert [r["name"] for r in results][:2] == ["合格率", "结业率"]
    rare = LibraryEntry.objects.get(key=library_key("质量指标", "结业率"))
    services.library_entry_set_recommended(entry=rare, recommended=True)
    results = selectors.library_search("率")
    assert results[0]["name"] == "结业率" and results[0]["recommended"] is True
    assert set(results[0]) == {"id", "level1", "level2", "name", "target", "unit", "rule", "accumulation",
                               "explanation", "standard", "recommended", "uses"}
    rate = next(r for r in results if r["name"] == "合格率")
    assert rate["target"] == ">=95%" and rate["uses"] == 4 and rate["unit"] == "%"
    # 二级 names match too, the 一级 filter narrows, the limit holds
    assert {r["name"] for r in selectors.library_search("经济成本")} == {"人均成本"}
    assert {r["level1"] for r in selectors.library_search("", level1="满意度指标")} == {"满意度指标"}
    assert len(selectors.library_search("", limit=2)) == 2


def test_search_refuses_huge_or_hostile_text():
    with pytest.raises(ValidationError, match="过长"):
        selectors.library_search("长" * 101)
    with pytest.raises(ValidationError, match="无法识别"):
        selectors.library_search("a\x00b")
    assert selectors.library_search("'; DROP TABLE kpi_libraryentry; --") == []


def test_users_see_the_library_of_their_tree_only(tree):
    services.library_build()
    assert selectors.entries_for_user(user=tree["admin"]).count() == 4
    assert selectors.entries_for_user(user=tree["lead"]).count() == 4
    assert selectors.entries_for_user(user=tree["reviewer"]).count() == 4
    assert selectors.entries_for_user(user=tree["outsider"]).count() == 0
    assert selectors.library_search("率", user=tree["outsider"]) == []


def test_peer_notes_place_a_target_among_other_units(tree):
    services.library_build()
    table, indicators = tree["tables"][0]  # 合格率 >=90% against 95, 95, 98; 人均成本 <=40 against 50, 55, 60
    notes = selectors.peer_notes(table)
    assert notes[indicators[1].pk] == "低于同类单位 100% 的目标值（中位数 95%，目标偏宽松）"
    assert notes[indicators[2].pk] == "低于同类单位 100% 的目标值（中位数 55元/人，目标较严）"
    assert notes[indicators[3].pk] == "与多数同类单位相同（中位数 90%）"


def test_peer_notes_need_three_other_units_and_fall_back_a_year(tree):
    services.library_build()
    lone_unit = UnitFactory(name="新单位", parent=tree["parent"])
    table, indicators = table_with_indicators(unit=lone_unit, rows=rows(">=99%"), year=2027)
    services.library_sync_tables([table.pk])
    notes = selectors.peer_notes(table)  # no other unit in 2027: the 2026 targets of four units
    assert notes[indicators[1].pk] == "高于同类单位 100% 的目标值（中位数 95%，目标较严）（参照 2026 年）"
    two = [t for t, _ in tree["tables"][:2]]
    for t in tree["tables"][2:]:
        t[0].indicators.all().delete()
    services.library_sync_tables([t.pk for t, _ in tree["tables"]])
    assert selectors.peer_notes(two[0]) == {}  # one other unit only


def test_peer_notes_skip_texts_and_other_units_of_measure(tree):
    unit = UnitFactory(name="示范单位6", parent=tree["parent"])
    table, indicators = table_with_indicators(ProjectFactory(unit=unit), [
        ("产出指标", "质量指标", "合格率", "有效提升", Decimal("20")),
        ("成本指标", "经济成本指标", "人均成本", "<=0.005万元/人", Decimal("20")),
    ])
    services.library_build()
    assert selectors.peer_notes(table) == {}
