"""Celery tasks of the importers: thin wrappers that take ids and call the services."""
from celery import shared_task

from kpi.rescoring.tasks import RETRY


@shared_task(name="kpi.tasks.import_job_read", **RETRY)
def import_job_read(job_id: int) -> None:
    """Read an uploaded file and store the preview of what importing it would do (nothing is written)."""
    from .services import import_job_read as read

    read(job_id=job_id)


@shared_task(name="kpi.tasks.import_job_run", **RETRY)
def import_job_run(job_id: int) -> None:
    """Import a confirmed upload (goal tables), table by table; progress goes to the shared cache."""
    from .services import import_job_run as run

    run(job_id=job_id)
