"""A bundle built by a real prefork Celery worker, its documents rendered by forked processes (a worker's
pool process may fork: what batch.render_all relies on)."""
import os
import subprocess
import sys
import zipfile

import pytest
from django.conf import settings

from kpi.models import SelfEvalReport
from kpi.selfeval import services
from tests.kpi.selfeval.conftest import build_world
from tests.kpi.test_worker_e2e import REPO, test_database_url, wait_for


@pytest.mark.e2e
def test_a_prefork_worker_builds_a_bundle_with_two_rendering_processes(transactional_db, tmp_path):
    world = build_world()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": test_database_url(),
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "JIXIAO_VAR_DIR": str(settings.VAR_DIR),
           "JIXIAO_BUNDLE_PROCESSES": "2"}
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
             "--loglevel=INFO", "--without-mingle", "--without-gossip", "--without-heartbeat",
             "-n", f"bundle-{os.getpid()}@%h"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        report = services.selfeval_bundle_start(unit=world.unit, year=2026)
        finished = wait_for(lambda: SelfEvalReport.objects.get(pk=report.pk).status in ("done", "failed"), process,
                            timeout=120)
        report.refresh_from_db()
        assert finished and report.status == SelfEvalReport.Status.DONE, (report.status, report.error,
                                                                         log.read_text()[-3000:])
        assert report.done == report.total >= 4
        path = settings.VAR_DIR / "media" / report.file.name  # the worker's MEDIA_ROOT
        with zipfile.ZipFile(path) as archive:
            assert all(archive.getinfo(n).file_size > 0 for n in archive.namelist())
    finally:
        process.terminate()
        process.wait(timeout=30)
