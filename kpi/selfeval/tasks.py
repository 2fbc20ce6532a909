"""Celery task of the self-evaluation: the bundle of a whole unit."""
from celery import shared_task
from django.db import DatabaseError

from kpi.rescoring.tasks import RETRY


@shared_task(name="kpi.tasks.selfeval_bundle_run", **RETRY)
def selfeval_bundle_run(report_id: int) -> None:
    """Build a unit's 绩效自评 bundle (one zip); progress is recorded in its SelfEvalReport row. Safe to run twice."""
    from .data import NoTables
    from .services import selfeval_bundle_build, selfeval_bundle_fail

    try:
        selfeval_bundle_build(report_id=report_id)
    except DatabaseError:
        raise  # retried
    except NoTables as error:  # expected: recorded for the page, nothing to retry
        selfeval_bundle_fail(report_id=report_id, error=str(error))
    except Exception as error:
        selfeval_bundle_fail(report_id=report_id, error=f"{type(error).__name__}: {error}")
        raise
