"""Celery tasks of rescoring: thin wrappers that take ids and call the services. All are safe to run twice.

Task names stay "kpi.tasks.…", the names messages already in a broker carry.
"""
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from celery import shared_task
from django.db import DatabaseError

logger = logging.getLogger(__name__)
# What a job's page says of an unexpected failure; the exception and its traceback go to the log only.
JOB_FAILED = "重新评分失败：系统内部错误，已记录日志。请稍后重新发起；如仍失败，请联系系统管理员。"

RETRY = {
    "acks_late": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "max_retries": 5,
}


@contextmanager
def failure_recorded(log: logging.Logger, record: Callable[[str], None], message: str, *, what: str,
                     event: str) -> Iterator[None]:
    """Around a task's work: a database error propagates (RETRY retries it); any other exception is logged
    with its traceback, `record(message)` stores the fixed Chinese message for the page, and it is re-raised."""
    try:
        yield
    except DatabaseError:
        raise
    except Exception:
        log.exception("%s failed", what, extra={"event": event})
        record(message)
        raise


@shared_task(name="kpi.tasks.rescore_table", **RETRY)
def rescore_table(table_id: int) -> None:
    """Rescore one goal table (after an actual or an execution figure was recorded)."""
    from .services import tables_rescore

    tables_rescore(table_ids=[table_id])


@shared_task(name="kpi.tasks.rescore_job_start", **RETRY)
def rescore_job_start(job_id: int) -> None:
    """Plan a bulk rescore in fixed-size batches and fan the batches out."""
    from .services import rescore_job_plan

    for index in rescore_job_plan(job_id=job_id):
        rescore_batch.delay(job_id, index)


@shared_task(name="kpi.tasks.rescore_batch", **RETRY)
def rescore_batch(job_id: int, index: int) -> None:
    from .services import rescore_batch_run, rescore_job_fail

    with failure_recorded(logger, lambda error: rescore_job_fail(job_id=job_id, error=error), JOB_FAILED,
                          what=f"rescore job {job_id}: batch {index}", event="rescore_batch_failed"):
        rescore_batch_run(job_id=job_id, index=index)


@shared_task(name="kpi.tasks.rescore_all_nightly", acks_late=True)
def rescore_all_nightly() -> int:
    """Nightly: rescore every goal table (policy edits and late corrections reach every score)."""
    from django.db import transaction

    from .services import rescore_job_create

    with transaction.atomic():
        job = rescore_job_create()
    return job.pk


@shared_task(name="kpi.tasks.rescore_stale_sweep", **RETRY)
def rescore_stale_sweep() -> int:
    """Every minute: rescore the tables still stale and resume stalled bulk jobs (a message lost, a worker
    killed) and import jobs whose message was lost; returns how many tables were rescored."""
    from kpi.importers.services import import_jobs_resume

    from .services import stale_tables_sweep, stalled_jobs_resume

    stalled_jobs_resume()
    import_jobs_resume()
    return stale_tables_sweep()
