"""End to end through a real Celery worker process: record an actual, the score appears.

Runs against whatever is configured: the embedded default (SQLite + filesystem broker) on a fresh
clone, real PostgreSQL and Redis in CI. The integration test insists on the real servers.
"""
import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from kpi.models import RescoreJob, Score, TableScore
from kpi.reports.services import actual_record
from kpi.rescoring.services import rescore_job_create
from tests.factories import ProjectFactory, approve_reports, table_with_indicators

REPO = Path(__file__).resolve().parents[2]
JULY = dt.date(2026, 7, 31)


def test_database_url() -> str:
    """A DATABASE_URL naming the test database this run created, for the worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = f"{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}@" if db.get("USER") else ""
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A real `celery worker` process on the configured broker, pointed at the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
             "--without-mingle", "--without-gossip", "--without-heartbeat", "-n", f"e2e-{os.getpid()}@%h"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        print(log.read_text()[-4000:])


def wait_for(condition, process, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        assert process.poll() is None, "the Celery worker exited early (its log is printed below)"
        time.sleep(0.25)
    return False


def record_and_see_the_score(worker):
    project = ProjectFactory()
    table, indicators = table_with_indicators(project)
    actual_record(indicator=indicators[1], as_of=JULY, value=Decimal("76"))  # commits, then enqueues
    assert wait_for(lambda: Score.objects.filter(indicator=indicators[1]).exists(), worker), "no score appeared"
    score = Score.objects.get(indicator=indicators[1])
    assert (score.points, score.official) == (Decimal("16.00"), False)  # 20 × 76 / 95, provisional
    assert TableScore.objects.get(table=table, official=False).missing == 3
    approve_reports(table)  # approval commits and enqueues again: the score becomes official
    assert wait_for(lambda: Score.objects.filter(indicator=indicators[1], official=True).exists(), worker), \
        "no official score after approval"
    assert not Score.objects.filter(official=False).exists()
    return table


@pytest.mark.e2e
def test_recording_an_actual_is_scored_by_the_worker(worker):
    record_and_see_the_score(worker)


@pytest.mark.e2e
def test_bulk_rescore_job_runs_to_done_in_the_worker(worker):
    table = record_and_see_the_score(worker)
    job = rescore_job_create(year=2026)
    assert wait_for(lambda: RescoreJob.objects.get(pk=job.pk).status == "done", worker), "job did not finish"
    job.refresh_from_db()
    assert (job.total_tables, job.done_tables) == (1, 1)
    table.refresh_from_db()
    assert not table.is_stale


def real_servers_reason() -> str | None:
    """Why the real servers are not in use, or None when they are."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        return "CELERY_BROKER_URL is not redis:// — Redis is not configured"
    if connection.vendor != "postgresql":
        return "DATABASE_URL is not postgres:// — PostgreSQL is not configured"
    import redis

    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis at {settings.CELERY_BROKER_URL} does not answer: {error}"
    return None


@pytest.mark.integration
@pytest.mark.e2e
def test_worker_against_real_postgresql_and_redis(transactional_db, request):
    reason = real_servers_reason()
    if reason:
        pytest.skip(reason)
    record_and_see_the_score(request.getfixturevalue("worker"))
