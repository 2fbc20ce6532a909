"""bench_scoring also reports its end-to-end / bulk-write ratio by process CPU time (steadier on a shared
machine than wall time)."""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_bench_scoring_reports_the_ratio_by_process_cpu_time(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "JIXIAO_VAR_DIR": str(tmp_path)}
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "manage.py", "bench_scoring", "--indicators", "200", "--seconds", "0.05"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert 0 < figures["end_to_end_vs_bulk_write_process_cpu"] < 100
    assert figures["end_to_end_vs_bulk_write"] > 0
