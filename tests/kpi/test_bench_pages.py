"""`bench_pages`: the world it builds, and the command end to end (tiny) to the JSON contract of issue 12."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from budgets.models import Project, Unit
from budgets.selectors import units_for_user
from kpi.benchmarks.world import INDICATORS, SMALL_UNIT_PROJECTS, department_count, world_build
from kpi.models import GoalTable, Indicator, Report, Score, TableScore

REPO = Path(__file__).resolve().parents[2]
PAGES = {"unit_scorecard", "unit_scorecard_sorted", "rollup", "project", "monitoring", "monitoring_xlsx",
         "selfeval_unit"}
TOP = {"database", "reference_p50_ms", "pages", "concurrent", "save_to_score_during_bulk_ms",
       "import_actuals_rows_per_s"}


def depth(unit: Unit) -> int:
    levels = 0
    while unit.parent_id:
        unit, levels = unit.parent, levels + 1
    return levels


@pytest.mark.django_db
def test_the_world_is_what_it_says():
    world = world_build(projects=12, units=52, year=2026)

    departments = department_count(52)
    assert departments == 2 and department_count(200) == 4  # 196 units: 49 per department
    assert Unit.objects.count() == world.counts["units"] == 53  # the finance bureau above 52 units
    root = Unit.objects.get(pk=world.root_id)
    assert root.parent_id is None and Unit.objects.filter(parent=root).count() == departments
    assert max(depth(u) for u in Unit.objects.select_related("parent__parent")) == 2  # root → 主管部门 → unit
    assert Unit.objects.filter(parent_id=world.big_department_id).count() == 25  # the 50 units below the departments, spread evenly
    assert Project.objects.filter(unit_id=world.big_unit_id).count() == 12
    assert Project.objects.count() == 12 + (52 - 1) * SMALL_UNIT_PROJECTS
    tables = GoalTable.objects.count()
    assert tables == Project.objects.count() + 52  # and a 部门整体 table per unit below the root
    assert not GoalTable.objects.exclude(status=GoalTable.Status.APPROVED).exists()
    assert Indicator.objects.count() == tables * len(INDICATORS) == world.counts["indicators"]
    assert sum(weight for *_rest, weight, _rule in INDICATORS) == 90
    assert Report.objects.filter(status=Report.Status.APPROVED).count() == tables

    # Scored through the real path: one official score per reported indicator, a total per table, all fresh.
    assert Score.objects.filter(official=True).count() == world.counts["scores"] == world.counts["actuals"]
    assert world.counts["actuals"] < world.counts["indicators"]  # a few left unreported
    assert TableScore.objects.filter(official=True).values("table").distinct().count() == tables
    assert not any(t.is_stale for t in GoalTable.objects.all())
    # Some tables are off track: not every score is full marks.
    assert Score.objects.filter(points__lt=5).exists()

    everyone = set(Unit.objects.values_list("pk", flat=True))
    assert set(units_for_user(user=world.finance).values_list("pk", flat=True)) == everyone
    department = set(units_for_user(user=world.reviewer).values_list("pk", flat=True))
    assert len(department) == 26 and world.big_unit_id in department and world.root_id not in department
    assert set(units_for_user(user=world.admin).values_list("pk", flat=True)) == {world.big_unit_id}
    assert Project.objects.get(pk=world.lead_project_id).lead_id == world.lead.pk


def database_exists(vendor: str, name: str) -> bool:
    if vendor == "sqlite":
        return Path(name).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


@pytest.mark.integration
@pytest.mark.e2e
@pytest.mark.django_db
def test_the_command_prints_the_contract_and_drops_its_database(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = subprocess.run(
        [sys.executable, "manage.py", "bench_pages", "--projects", "12", "--units", "6", "--concurrency", "2",
         "--repeat", "2", "--seconds", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    document = json.loads(run.stdout)  # stdout is the one JSON document, nothing else

    assert set(document) == TOP
    assert document["database"] == connection.vendor
    assert document["reference_p50_ms"] > 0
    assert set(document["pages"]) == PAGES
    for name, page in document["pages"].items():
        assert {"p50_ms", "p95_ms", "queries"} <= set(page), name
        assert page["queries"] > 0 and page["p95_ms"] >= page["p50_ms"] > 0, (name, page)
        assert page["status"] == 200 and page["bytes"] > 0, (name, page)
    assert set(document["concurrent"]) == {"users", "rps", "p95_ms", "errors"}
    assert document["concurrent"]["users"] == 2 and document["concurrent"]["errors"] == 0
    assert document["concurrent"]["rps"] > 0 and document["concurrent"]["p95_ms"] > 0
    assert document["save_to_score_during_bulk_ms"] > 0
    assert document["import_actuals_rows_per_s"] > 0

    found = re.search(r"临时数据库（(\w+)）：(\S+)", run.stderr)
    assert found, run.stderr[:2000]
    assert not database_exists(*found.groups())


def test_no_concurrency_means_no_figures():
    from kpi.benchmarks.load import no_load

    assert no_load().as_json() == {"users": 0, "rps": None, "p95_ms": None, "errors": 0}
