"""A task that fails unexpectedly records a plain Chinese message for its page; the exception, with its
traceback, goes to the log only (issue 15): the rescore job's page and the 监控表 export's progress bar."""
import datetime as dt
import logging

import pytest

from kpi.models import RescoreJob
from kpi.monitoring import xlsx as monitoring_xlsx
from kpi.monitoring.tasks import monitoring_xlsx_run
from kpi.rescoring import services as rescoring_services
from kpi.rescoring.services import rescore_job_create
from kpi.rescoring.tasks import rescore_batch, rescore_job_start
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
LEAKY = "ValueError: Unable to read row 7 — Traceback (most recent call last)"
ENGLISH = ("Error", "Traceback", "ValueError", "Unable", "row 7")


def _broken(*args, **kwargs):
    raise ValueError(LEAKY)


def _logged_with_traceback(caplog, logger: str) -> None:
    records = [r for r in caplog.records if r.name == logger]
    assert records and records[0].exc_info and records[0].exc_info[0] is ValueError


def test_a_failed_rescore_batch_shows_no_exception_text(monkeypatch, caplog):
    caplog.set_level(logging.WARNING)
    monkeypatch.setattr(rescore_job_start, "delay", lambda *args: None)
    job = rescore_job_create(year=2026)
    monkeypatch.setattr(rescoring_services, "rescore_batch_run", _broken)
    with pytest.raises(ValueError):
        rescore_batch(job.pk, 0)
    job = RescoreJob.objects.get(pk=job.pk)
    assert job.status == "failed" and job.error.startswith("重新评分失败：系统内部错误")
    assert not [word for word in ENGLISH if word in job.error]
    _logged_with_traceback(caplog, "kpi.rescoring.tasks")


def test_a_failed_monitoring_export_shows_no_exception_text(monkeypatch, caplog):
    caplog.set_level(logging.WARNING)
    job = monitoring_xlsx.export_start(unit=UnitFactory(), year=2026, cut=dt.date(2026, 7, 31), user=UserFactory())
    monkeypatch.setattr(monitoring_xlsx, "export_build", _broken)
    with pytest.raises(ValueError):
        monitoring_xlsx_run(job.token)
    error = monitoring_xlsx.export_job(job.token).error
    assert error.startswith("导出失败：系统内部错误")
    assert not [word for word in ENGLISH if word in error]
    _logged_with_traceback(caplog, "kpi.monitoring.tasks")
