"""Management commands: score_indicator (JSON by hand), load_demo, bench_scoring."""
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from budgets.models import Project, Unit
from kpi.models import Actual, GoalTable, Indicator
from kpi.rescoring.tasks import rescore_table

REPO = Path(__file__).resolve().parents[2]


def run(*args):
    out = StringIO()
    call_command("score_indicator", *args, stdout=out)
    return json.loads(out.getvalue())


def test_score_indicator_prints_the_result_as_json():
    result = run("--rule", "按照完成比例赋分", "--target", ">=95%", "--actual", "76", "--weight", "20")
    assert result["points"] == "16.00"
    assert result["ratio"] == "0.8000"
    assert result["target"] == {"raw": ">=95%", "kind": "positive", "value": "95", "upper": None, "unit": "%",
                                "flags": []}
    assert result["explanation"]


def test_score_indicator_reverse_deadline_and_graded():
    assert run("--rule", "按照完成比例赋分", "--target", "<=4.33万元/月", "--actual", "5", "--weight", "10")[
        "points"] == "8.66"
    assert run("--rule", "直接赋分", "--target", "每月25日前", "--actual", "是", "--weight", "10")["points"] == "10.00"
    assert run("--rule", "直接赋分", "--target", "每月25日前", "--actual", "否", "--weight", "10")["points"] == "0.00"
    graded = run("--rule", "按评判等级赋分", "--target", "有效提升", "--weight", "10",
                 "--grade", "达成年度指标", "--points", "9")
    assert graded["points"] == "9.00"


@pytest.mark.parametrize(
    "args, message",
    [
        (("--rule", "乱写规则", "--target", ">=95%", "--actual", "1", "--weight", "10"), "规则"),
        (("--rule", "按照完成比例赋分", "--target", ">=95%", "--actual", "abc", "--weight", "10"), "数字"),
        (("--rule", "按照完成比例赋分", "--target", ">=95%", "--actual", "1", "--weight", "-1"), ""),
        (("--rule", "按评判等级赋分", "--target", "有效提升", "--weight", "10", "--grade", "达成年度指标",
          "--points", "5"), "范围"),
    ],
)
def test_score_indicator_refuses_bad_input_in_chinese(args, message):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(error.value))


@pytest.mark.django_db
def test_load_demo_builds_scorable_tables_and_is_idempotent(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "jixiao-demo-2026" in out.getvalue() and "wangfang" in out.getvalue()
    counts = (Project.objects.count(), GoalTable.objects.count(), Indicator.objects.count(), Actual.objects.count())
    assert counts[0] == 2 and counts[1] == 3
    for table in GoalTable.objects.all():
        assert sum(table.indicators.values_list("weight", flat=True)) == 90
    call_command("load_demo", stdout=StringIO())
    assert (Project.objects.count(), GoalTable.objects.count(), Indicator.objects.count(),
            Actual.objects.count()) == counts


def test_bench_scoring_prints_its_figures(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "JIXIAO_VAR_DIR": str(tmp_path)}
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "manage.py", "bench_scoring", "--indicators", "300", "--seconds", "0.1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    print(figures)
    assert figures["indicators"] == 300
    for key in ("pure_score_indicator_per_s", "end_to_end_rescore_per_s", "bulk_write_reference_per_s"):
        assert figures[key] > 0
    assert figures["end_to_end_vs_bulk_write"] > 0


@pytest.mark.django_db
def test_load_demo_refuses_a_production_site(settings):
    settings.JIXIAO_ALLOW_DEMO_DATA = False
    with pytest.raises(CommandError, match="生产环境不能载入示范数据"):
        call_command("load_demo", stdout=StringIO())
    assert not Unit.objects.exists()
