"""Interactive first: the rescore after a save has its own queue, which the bulk work never stands in front of."""
from pathlib import Path

from django.conf import settings

from config.celery_app import app

ROOT = Path(__file__).resolve().parents[3]


def _queue(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_the_rescore_after_a_save_goes_to_the_interactive_queue_and_bulk_work_to_the_default_one():
    assert _queue("kpi.tasks.rescore_table") == "interactive"
    for bulk in ("kpi.tasks.rescore_job_start", "kpi.tasks.rescore_batch", "kpi.tasks.rescore_all_nightly",
                 "kpi.tasks.import_job_run", "kpi.tasks.selfeval_bundle_run"):
        assert _queue(bulk) == "celery", bulk


def test_a_worker_reads_both_queues_interactive_first():
    assert settings.CELERY_WORKER_QUEUES == "interactive,celery"
    assert [q.name for q in settings.CELERY_TASK_QUEUES] == ["interactive", "celery"]  # -Q-less workers read both
    for path in ("dev", "compose.yaml", "deploy/systemd/jixiao-worker.service"):
        text = (ROOT / path).read_text()
        assert "interactive,celery" in text.replace('", "', ","), path
    # Production also runs a worker of its own for the interactive queue.
    assert '"-Q", "interactive", "--concurrency", "1"' in (ROOT / "compose.yaml").read_text()
    assert "-Q interactive --concurrency 1" in (ROOT / "deploy/systemd/jixiao-worker-interactive.service").read_text()
