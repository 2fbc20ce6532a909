"""bench_scoring's figures beside the end-to-end / bulk-write ratio: the ratio by process CPU time (steadier on
a shared machine than wall time), a bulk job through real workers, and the rescore's database work alone."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpi.management.commands.bench_scoring import Command
from kpi.models import Score, TableScore, TableSummary
from kpi.rescoring.services import tables_rescore

REPO = Path(__file__).resolve().parents[3]


def _bench(tmp_path, *args):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "JIXIAO_VAR_DIR": str(tmp_path)}
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    return subprocess.run([sys.executable, "manage.py", "bench_scoring", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_bench_scoring_reports_the_ratio_by_process_cpu_time(tmp_path):
    done = _bench(tmp_path, "--indicators", "200", "--seconds", "0.05")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert 0 < figures["end_to_end_vs_bulk_write_process_cpu"] < 100
    assert figures["end_to_end_vs_bulk_write"] > 0


def test_bench_scoring_times_a_bulk_job_through_real_workers(tmp_path):
    done = _bench(tmp_path, "--indicators", "300", "--per-table", "15", "--seconds", "0.05", "--workers", "1")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    job = figures["bulk_job"]
    assert job["workers"] == 1 and job["tables"] == 20  # 300 indicators, 15 per table
    assert job["seconds"] > 0 and job["scores_per_s"] > 0
    assert "Celery worker 已启动" in done.stderr


def test_bench_scoring_refuses_a_bad_per_table(tmp_path):
    done = _bench(tmp_path, "--indicators", "300", "--per-table", "0")
    assert done.returncode != 0 and "--per-table 应在 1 到 100 之间" in done.stderr


def test_bench_scoring_reports_the_database_only_share(tmp_path):
    done = _bench(tmp_path, "--indicators", "200", "--seconds", "0.05")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["database_only_rescore_per_s"] > 0
    assert figures["database_only_vs_bulk_write"] == round(
        figures["database_only_rescore_per_s"] / figures["bulk_write_reference_per_s"], 3)


@pytest.mark.django_db
def test_the_database_only_run_stores_what_a_rescore_stores():
    """The figure is only a bound on the rescore if it does the rescore's database work: its writes leave the
    same scores, totals and summaries as tables_rescore (which it must first compute, untimed)."""
    command = Command()
    command.per_table = 5
    table_ids = command.build(60)
    tables_rescore(table_ids=table_ids)
    expected = _stored()
    assert len(expected[0]) == 60 and len(expected[1]) == 12 and len(expected[2]) == 12
    assert command.bench_database_only(table_ids) > 0
    assert _stored() == expected


def _stored():
    return (
        sorted(Score.objects.values_list("indicator_id", "table_id", "actual_id", "as_of", "official", "points",
                                         "ratio", "explanation", "flags", "policy_version")),
        sorted(TableScore.objects.values_list("table_id", "as_of", "official", "executed", "execution_points",
                                              "indicator_points", "total", "grade", "missing")),
        sorted(TableSummary.objects.values_list("table_id", "light", "as_of", "missing", "executed",
                                                "official_total", "official_grade", "provisional_total")),
    )
