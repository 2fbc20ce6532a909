"""Two measured jobs: how long a saved actual takes to show in its score while a bulk rescore runs (a real
worker), and how many rows a second the bulk actuals import takes (the service `import_actuals` calls)."""
from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from django.db import transaction

from budgets.models import Unit
from kpi import scoring
from kpi.importers.actuals import ACTUALS_COLUMNS, actuals_import, actuals_template_rows, template_csv
from kpi.models import Actual, Indicator, RescoreJob, Score

from .world import INDICATORS, World

POLL_SECONDS = 0.02
SCORE_TIMEOUT = 300  # seconds for the saved actual's score to appear
BULK_START_TIMEOUT = 120  # seconds for the bulk job's batches to start running
IMPORT_ROWS = 10_000

# On-track values for every kind of indicator of the world (no deviation reason needed), as a person types
# them in the import file: (实际完成值, 等级, 得分).
IMPORT_VALUES = {
    "count": ("850", "", ""),
    "rate": ("97", "", ""),
    "deadline": ("是", "", ""),
    "reverse": ("40", "", ""),
    "graded": ("", scoring.Grade.ACHIEVED.value, "9"),
    "equals": ("100", "", ""),
    "zero": ("0", "", ""),
    "satisfaction": ("95", "", ""),
}
_KEY_OF_NAME = {name: key for key, _level1, _level2, name, *_rest in INDICATORS}


def _bulk_running(job: RescoreJob, deadline: float) -> None:
    """Wait until the job's batches run (or it is done already: a small world is one batch)."""
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == RescoreJob.Status.DONE or job.status == RescoreJob.Status.FAILED:
            return
        if job.status == RescoreJob.Status.RUNNING and job.batches.exists():
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"批量评分任务 {BULK_START_TIMEOUT} 秒内未开始（worker 没有取走消息？）")


def save_to_score_during_bulk(world: World, *, say) -> tuple[float, dict]:
    """Start a bulk rescore of every table (as the `rescore` command does), and while its batches run record
    a new value of the probe indicator, submitted by its lead and approved by the unit's administrator, in
    one committed transaction (the rescore of its table is sent on commit); then poll every 20 ms until
    its official score is the one of that actual. Returns the milliseconds from commit to visible score, and
    what the bulk job had done by then. A worker on the same database and broker must be running."""
    from kpi.reports.services import actual_record, report_approve, report_submit
    from kpi.rescoring.services import rescore_job_create

    with transaction.atomic():
        job = rescore_job_create(year=world.year)
    _bulk_running(job, time.monotonic() + BULK_START_TIMEOUT)
    indicator = Indicator.objects.select_related("table").get(pk=world.probe_indicator_id)
    standing = Actual.objects.filter(indicator=indicator, as_of=world.cut).order_by("-pk").first()
    value = (standing.value if standing and standing.value is not None else Decimal("800")) + 13
    with transaction.atomic():
        actual = actual_record(indicator=indicator, as_of=world.cut, value=value, replaces=standing, user=world.lead)
        report_submit(report=actual.report, user=world.lead)
        report_approve(report=actual.report, user=world.admin)
    committed = time.perf_counter()
    job.refresh_from_db()
    during = {"bulk_status": job.status, "bulk_done_tables": job.done_tables, "bulk_total_tables": job.total_tables}
    say(f"已保存并审核（批量评分 {job.done_tables}/{job.total_tables} 张表），等待得分…")
    visible = Score.objects.filter(indicator_id=indicator.pk, as_of=world.cut, official=True, actual_id=actual.pk)
    deadline = time.monotonic() + SCORE_TIMEOUT
    while not visible.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"保存后 {SCORE_TIMEOUT} 秒内得分未更新")
        time.sleep(POLL_SECONDS)
    return round((time.perf_counter() - committed) * 1000, 1), during


def import_csv(world: World, *, as_of: dt.date, limit: int = IMPORT_ROWS) -> tuple[bytes, int]:
    """A file of the bulk actuals import (the filled template's CSV) for the big unit at `as_of`: one row
    per indicator, at most `limit`, every value on track. Returns the file and its number of rows."""
    unit = Unit.objects.get(pk=world.big_unit_id)
    rows = actuals_template_rows(unit=unit, year=world.year, as_of=as_of)[:limit]
    for row in rows:
        value, grade, points = IMPORT_VALUES[_KEY_OF_NAME[row["三级指标"].rsplit("/", 1)[-1]]]
        row.update({"实际完成值": value, "等级": grade, "得分": points})
    return template_csv(columns=ACTUALS_COLUMNS, rows=rows), len(rows)


def import_rate(world: World, *, say) -> float:
    """Rows a second of `actuals_import` (what `import_actuals FILE --unit … --year …` runs) on the big unit's
    indicators at a new cut date (August 31), all or nothing as always."""
    as_of = dt.date(world.year, 8, 31)
    data, rows = import_csv(world, as_of=as_of)
    unit = Unit.objects.get(pk=world.big_unit_id)
    say(f"导入实际完成值：{rows} 行（截至 {as_of:%Y-%m-%d}）…")
    started = time.perf_counter()
    result = actuals_import(unit=unit, year=world.year, rows_source=data, filename="bench-actuals.csv")
    seconds = time.perf_counter() - started
    say(f"  {result.summary}（{seconds:.1f} 秒）")
    return round(rows / seconds, 1)
