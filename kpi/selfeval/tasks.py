"""Celery task of the self-evaluation: the bundle of a whole unit."""
import logging

from celery import shared_task

from kpi.rescoring.tasks import RETRY, failure_recorded
from kpi.storage import StorageUnavailable, storage_faults

logger = logging.getLogger(__name__)
# What the page says of an unexpected failure; the exception and its traceback go to the log only.
BUNDLE_FAILED = "生成失败：系统内部错误，已记录日志。请稍后重新生成；如仍失败，请联系系统管理员。"


@shared_task(name="kpi.tasks.selfeval_bundle_run", **RETRY)
def selfeval_bundle_run(report_id: int) -> None:
    """Build a unit's 绩效自评 bundle (one zip); progress is recorded in its SelfEvalReport row. Safe to run twice."""
    from .data import NoTables
    from .services import selfeval_bundle_build, selfeval_bundle_fail

    def record(error: str) -> None:
        selfeval_bundle_fail(report_id=report_id, error=error)

    with failure_recorded(logger, record, BUNDLE_FAILED, what=f"selfeval bundle {report_id}",
                          event="selfeval_bundle_failed"):
        try:
            with storage_faults(f"selfeval bundle {report_id}"):  # its temporary files included
                selfeval_bundle_build(report_id=report_id)
        except NoTables as error:  # expected: recorded for the page, nothing to retry
            record(str(error))
        except StorageUnavailable as error:  # the disk is full or read-only (logged): the page says so plainly
            record(error.message)
