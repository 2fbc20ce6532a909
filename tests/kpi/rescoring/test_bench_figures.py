"""bench_scoring also reports its end-to-end / bulk-write ratio by process CPU time (steadier on a shared
machine than wall time)."""
import json
import os
import subprocess
import sys
from pathlib import Path

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
