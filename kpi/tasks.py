"""Celery tasks: thin wrappers that take ids and call services. All are safe to run twice."""
from celery import shared_task
from django.db import DatabaseError

RETRY = {
    "acks_late": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(**RETRY)
def rescore_table(table_id: int) -> None:
    """Rescore one goal table (after an actual or an execution figure was recorded)."""
    from .services import tables_rescore

    tables_rescore(table_ids=[table_id])


@shared_task(**RETRY)
def rescore_job_start(job_id: int) -> None:
    """Plan a bulk rescore in fixed-size batches and fan the batches out."""
    from .services import rescore_job_plan

    for index in rescore_job_plan(job_id=job_id):
        rescore_batch.delay(job_id, index)


@shared_task(**RETRY)
def rescore_batch(job_id: int, index: int) -> None:
    from .services import rescore_batch_run, rescore_job_fail

    try:
        rescore_batch_run(job_id=job_id, index=index)
    except DatabaseError:
        raise  # retried
    except Exception as error:  # noqa: BLE001 — recorded on the job for the progress page, then re-raised
        rescore_job_fail(job_id=job_id, error=f"{type(error).__name__}: {error}")
        raise


@shared_task(acks_late=True)
def rescore_all_nightly() -> int:
    """Nightly: rescore every goal table (policy edits and late corrections reach every score)."""
    from django.db import transaction

    from .services import rescore_job_create

    with transaction.atomic():
        job = rescore_job_create()
    return job.pk


@shared_task(**RETRY)
def import_job_run(job_id: int) -> None:
    """Import a confirmed upload (goal tables) in one transaction; progress goes to the shared cache."""
    from .importers.service import import_job_run as run

    run(job_id=job_id)


@shared_task(acks_late=True, autoretry_for=(DatabaseError, OSError), retry_backoff=True, max_retries=5)
def send_reminders(today: str | None = None) -> dict | None:
    """Daily at 08:00: on JIXIAO_REMINDER_DAY, remind leads and administrators of last month's overdue
    reports. Other days do nothing. A retry (SMTP and network errors are OSErrors) sends only what is
    not yet recorded as sent."""
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from .reminders import reminders_send

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    if day.day != settings.JIXIAO_REMINDER_DAY:
        return None
    result = reminders_send(today=day)
    return {**result, "period": result["period"].isoformat()}


@shared_task(**RETRY)
def selfeval_bundle_run(report_id: int) -> None:
    """Build a unit's 绩效自评 bundle (one zip); progress is recorded in its SelfEvalReport row. Safe to run twice."""
    from .selfeval.data import NoTables
    from .selfeval.services import selfeval_bundle_build, selfeval_bundle_fail

    try:
        selfeval_bundle_build(report_id=report_id)
    except DatabaseError:
        raise  # retried
    except NoTables as error:  # expected: recorded for the page, nothing to retry
        selfeval_bundle_fail(report_id=report_id, error=str(error))
    except Exception as error:  # noqa: BLE001 — recorded on the row for the progress bar, then re-raised
        selfeval_bundle_fail(report_id=report_id, error=f"{type(error).__name__}: {error}")
        raise
