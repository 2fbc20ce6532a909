"""Celery task of 绩效运行监控: the 监控表 xlsx of a large unit, built off the request with a progress bar."""
import logging

from celery import shared_task

from kpi.rescoring.tasks import RETRY, failure_recorded

logger = logging.getLogger(__name__)
# What the progress bar says of an unexpected failure; the exception and its traceback go to the log only.
EXPORT_FAILED = "导出失败：系统内部错误，已记录日志。请稍后重新导出；如仍失败，请联系系统管理员。"


@shared_task(name="kpi.tasks.monitoring_xlsx_run", **RETRY)
def monitoring_xlsx_run(token: str) -> None:
    """Build the export recorded under `token` (kpi.monitoring.xlsx); its progress is kept in the cache. Safe
    to run twice."""
    from .xlsx import export_build, export_fail

    with failure_recorded(logger, lambda error: export_fail(token=token, error=error), EXPORT_FAILED,
                          what=f"monitoring export {token}", event="monitoring_export_failed"):
        export_build(token=token)


@shared_task(name="kpi.tasks.monitoring_exports_prune", **RETRY)
def monitoring_exports_prune() -> int:
    """Every hour: delete the 监控表 files whose links have expired."""
    from .xlsx import exports_prune

    return exports_prune()
