"""Celery task of 绩效运行监控: the 监控表 xlsx of a large unit, built off the request with a progress bar."""
from celery import shared_task
from django.db import DatabaseError

from kpi.rescoring.tasks import RETRY


@shared_task(name="kpi.tasks.monitoring_xlsx_run", **RETRY)
def monitoring_xlsx_run(token: str) -> None:
    """Build the export recorded under `token` (kpi.monitoring.xlsx); its progress is kept in the cache. Safe
    to run twice."""
    from .xlsx import export_build, export_fail

    try:
        export_build(token=token)
    except DatabaseError:
        raise  # retried
    except Exception as error:
        export_fail(token=token, error=f"{type(error).__name__}: {error}")
        raise
