"""Celery tasks of the importers: thin wrappers that take ids and call the services."""
from celery import shared_task

from kpi.rescoring.tasks import RETRY


@shared_task(name="kpi.tasks.import_job_run", **RETRY)
def import_job_run(job_id: int) -> None:
    """Import a confirmed upload (goal tables) in one transaction; progress goes to the shared cache."""
    from .services import import_job_run as run

    run(job_id=job_id)
