"""Benchmark the scoring engine and the rescore path in a throwaway database; prints JSON.

python manage.py bench_scoring --indicators N [--per-table K] [--workers W]

With --workers, a bulk rescore job of every table is also timed end to end through real Celery worker processes
(W of them, on a broker private to the run), as `manage.py rescore` runs it: "bulk_job".
"""
import datetime as dt
import json
import os
import platform
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from kpi import scoring
from kpi.benchmarks.database import throwaway_database
from kpi.targets import parse_target

INDICATORS_PER_TABLE = 10
BULK_JOB_TIMEOUT = 1800  # seconds
# A realistic mix of published targets and actuals (value in the target's unit).
MIX = [
    (">=95%", Decimal("92.5")),
    ("<=4.33万元/月", Decimal("4.80")),
    ("=100%", Decimal("100")),
    (">=485.71万条", Decimal("501.2")),
    ("≥3 件", Decimal("2")),
    ("=0%", Decimal("0")),
    ("=50-100元", Decimal("120")),
    (">=90%", Decimal("88")),
    ("<=5%", Decimal("3")),
    (">=6 万人次", Decimal("6.4")),
]


class Command(BaseCommand):
    help = "评分性能基准：纯计算、端到端重算（读取、计算、写入）与批量写入参照，输出 JSON。"

    def add_arguments(self, parser):
        parser.add_argument("--indicators", type=int, default=20000)
        parser.add_argument("--seconds", type=float, default=1.0, help="纯计算测量的最短时长")
        parser.add_argument("--per-table", type=int, default=INDICATORS_PER_TABLE,
                            help="每张目标表的指标数（默认 10；例如 15 即 15 万指标 1 万张表）")
        parser.add_argument("--workers", type=int, default=0,
                            help="另用 N 个 Celery worker 进程测量批量评分任务（0：不测）")

    def handle(self, *args, **options):
        n = options["indicators"]
        self.per_table = options["per_table"]
        if not 1 <= self.per_table <= 100:
            raise CommandError("--per-table 应在 1 到 100 之间。")
        if n < self.per_table:
            raise CommandError(f"--indicators 至少为 {self.per_table}。")
        if options["workers"] < 0:
            raise CommandError("--workers 不能为负数。")
        self.cpu = {}  # seconds of this process's CPU time, by measurement
        pure = self.bench_pure(n, options["seconds"])
        # Measure what production runs: no DEBUG query log (it costs more than some of what is measured).
        with override_settings(DEBUG=False), throwaway_database():
            table_ids = self.build(n)
            rescore_fresh = self.bench_rescore(table_ids)
            rescore_again = self.bench_rescore(table_ids)
            database_only = self.bench_database_only(table_ids)
            bulk = self.bench_bulk_write(n)
            orm_bulk = self.bench_bulk_create(n)
            bulk_job = self.bench_bulk_job(len(table_ids), options["workers"]) if options["workers"] else None
            vendor = connection.vendor
        result = {
            "indicators": n,
            "database": vendor,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "pure_score_indicator_per_s": round(pure),
            "end_to_end_rescore_per_s": round(rescore_fresh),
            "end_to_end_rescore_again_per_s": round(rescore_again),
            "bulk_write_reference_per_s": round(bulk),
            "end_to_end_vs_bulk_write": round(rescore_fresh / bulk, 3),
            "orm_bulk_create_reference_per_s": round(orm_bulk),
            "end_to_end_vs_orm_bulk_create": round(rescore_fresh / orm_bulk, 3),
            # A fresh rescore's database work alone (its reads and writes, the engine and all Python between
            # them free): the most end_to_end_vs_bulk_write could be here.
            "database_only_rescore_per_s": round(database_only),
            "database_only_vs_bulk_write": round(database_only / bulk, 3),
            # The same two by this process's CPU time: steadier than wall time on a shared machine, but without
            # the database server's work (all of it on SQLite, none of PostgreSQL's).
            "end_to_end_vs_bulk_write_process_cpu": round(self.cpu["bulk"] / self.cpu["rescore"], 3),
        }
        if bulk_job is not None:
            result["bulk_job"] = bulk_job
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))

    def bench_pure(self, n, seconds):
        cases = [(parse_target(t), a) for t, a in MIX]
        weight = Decimal("10")
        rule = scoring.Rule.PROPORTIONAL
        score = scoring.score_indicator
        calls = 0
        started = time.perf_counter()
        elapsed = 0.0
        while elapsed < seconds or calls < n:
            for target, actual in cases * 100:
                score(rule=rule, target=target, actual=actual, weight=weight)
            calls += len(cases) * 100
            elapsed = time.perf_counter() - started
        return calls / elapsed

    def build(self, n):
        """N indicators in N/10 project tables, each with one actual, written in bulk."""
        from budgets.models import BudgetExecution, Project, Unit
        from kpi.models import Actual, GoalTable, Indicator, Report

        year = timezone.localdate().year
        as_of = dt.date(year, 7, 31)
        with transaction.atomic():
            unit = Unit.objects.create(code="BENCH", name="基准测试单位")
            tables_count = n // self.per_table
            projects = Project.objects.bulk_create(
                Project(unit=unit, year=year, name=f"基准项目{i:06d}", budget_initial=Decimal("100.00"))
                for i in range(tables_count)
            )
            tables = GoalTable.objects.bulk_create(
                GoalTable(scope="project", unit=unit, project=p, year=year) for p in projects
            )
            parsed = [(parse_target(t), t) for t, _ in (MIX * 10)[:self.per_table]]
            indicators = Indicator.objects.bulk_create(
                (
                    Indicator(
                        table=table, order=i + 1, level1="产出指标", level2="数量指标", name=f"指标{i + 1}",
                        target_raw=raw, target_kind=target.kind.value, target_value=target.value,
                        target_upper=target.upper, unit=target.unit, weight=Decimal("9"),
                        rule=scoring.Rule.PROPORTIONAL.value,
                    )
                    for table in tables
                    for i, (target, raw) in enumerate(parsed)
                ),
                batch_size=2000,
            )
            reports = {
                r.table_id: r
                for r in Report.objects.bulk_create(
                    Report(table=t, as_of=as_of, status=Report.Status.APPROVED) for t in tables
                )
            }
            Actual.objects.bulk_create(
                (Actual(indicator=ind, report=reports[ind.table_id], as_of=as_of,
                        value=MIX[(ind.order - 1) % len(MIX)][1])
                 for ind in indicators),
                batch_size=2000,
            )
            BudgetExecution.objects.bulk_create(
                (BudgetExecution(unit=unit, project=p, year=year, as_of=as_of, executed=Decimal("61.50"))
                 for p in projects),
                batch_size=2000,
            )
        return [t.pk for t in tables]

    def bench_rescore(self, table_ids):
        """The path the Celery batches take: read, score, upsert — batch by batch."""
        from kpi.models import Score
        from kpi.rescoring.services import RESCORE_BATCH_SIZE, tables_rescore

        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(table_ids), RESCORE_BATCH_SIZE):
            tables_rescore(table_ids=table_ids[start:start + RESCORE_BATCH_SIZE])
        elapsed = time.perf_counter() - started
        self.cpu.setdefault("rescore", time.process_time() - cpu)  # the first (fresh) one
        return Score.objects.count() / elapsed

    def bench_database_only(self, table_ids):
        """What a fresh rescore costs the database, batch by batch as bench_rescore runs it, one transaction
        each: lock the batch's tables, run its reads (`_batch_fetched`: rows fetched, not turned into rows to
        score from) and store its score, total and summary rows, which are computed beforehand, untimed."""
        from kpi.rescoring import services

        size = services.RESCORE_BATCH_SIZE
        batches = []
        for start in range(0, len(table_ids), size):
            with transaction.atomic():
                tables = services._tables_locked(table_ids[start:start + size])
                batches.append(([t.pk for t in tables], services._batch_computed(tables, services._read_batch(tables))))
        _scores_cleared()
        started = time.perf_counter()
        for ids, (scores, totals, summaries) in batches:
            with transaction.atomic():
                services._batch_fetched(services._tables_locked(ids))
                services._batch_write(ids, scores, totals, summaries)
        elapsed = time.perf_counter() - started
        return sum(len(scores) for _, (scores, _, _) in batches) / elapsed

    def bench_bulk_job(self, tables: int, workers: int) -> dict:
        """A bulk rescore job of the year (`rescore_job_create`, as `manage.py rescore` queues it) run by
        `workers` real worker processes: from the commit that queues it to the job marked done."""
        from kpi.benchmarks.database import database_url
        from kpi.benchmarks.servers import celery_worker, private_broker
        from kpi.models import RescoreJob, Score
        from kpi.rescoring.services import RESCORE_BATCH_SIZE, rescore_job_create

        def say(message):
            self.stderr.write(message)

        with tempfile.TemporaryDirectory(prefix="jixiao-bench-") as folder, private_broker(Path(folder)) as broker:
            with celery_worker(database_url=database_url(), broker_env=broker, folder=Path(folder),
                               concurrency=workers, say=say):
                with transaction.atomic():
                    job = rescore_job_create(year=timezone.localdate().year)
                started = time.perf_counter()
                deadline = time.monotonic() + BULK_JOB_TIMEOUT
                while job.status not in (RescoreJob.Status.DONE, RescoreJob.Status.FAILED):
                    if time.monotonic() > deadline:
                        raise CommandError(f"批量评分任务 {BULK_JOB_TIMEOUT} 秒内未完成（{job.done_tables}/{job.total_tables}）。")
                    time.sleep(0.05)
                    job.refresh_from_db(fields=["status", "done_tables", "total_tables"])
                elapsed = time.perf_counter() - started
        if job.status != RescoreJob.Status.DONE:
            raise CommandError("批量评分任务失败，见 worker 日志。")
        scores = Score.objects.count()
        return {"workers": workers, "tables": tables, "batch_size": RESCORE_BATCH_SIZE, "seconds": round(elapsed, 2),
                "scores_per_s": round(scores / elapsed)}

    def bench_bulk_write(self, n):
        """Physical reference: insert N ready-made score rows the way a rescore writes them, nothing computed."""
        from kpi.models import Actual
        from kpi.rescoring.services import score_writer

        writer = score_writer()
        now = writer.adapt_datetime(timezone.now())
        flags = writer.adapt_json_list(())
        rows = [
            (i, t, a, d, True, Decimal("9.00"), Decimal("1.0000"), "实际 100 %，目标 ≥95 %，达到目标：9.00", flags,
             "default", now)
            for i, t, a, d in Actual.objects.values_list("indicator_id", "indicator__table_id", "id", "as_of")
        ]
        _scores_cleared()
        started, cpu = time.perf_counter(), time.process_time()
        with transaction.atomic():
            writer.insert(rows)
        elapsed = time.perf_counter() - started
        self.cpu["bulk"] = time.process_time() - cpu
        return len(rows) / elapsed


    def bench_bulk_create(self, n):
        """Second reference: the same N rows through the ORM's QuerySet.bulk_create."""
        from kpi.models import Actual, Score

        now = timezone.now()
        rows = list(Actual.objects.values_list("indicator_id", "indicator__table_id", "id", "as_of"))
        _scores_cleared()
        started = time.perf_counter()
        with transaction.atomic():
            Score.objects.bulk_create(
                (
                    Score(indicator_id=i, table_id=t, actual_id=a, as_of=d, points=Decimal("9.00"),
                          ratio=Decimal("1.0000"), explanation="实际 100 %，目标 ≥95 %，达到目标：9.00",
                          flags=[], policy_version="default", computed_at=now)
                    for i, t, a, d in rows
                ),
                batch_size=1000,
            )
        return len(rows) / (time.perf_counter() - started)


def _scores_cleared():
    """Empty the score tables for the next measurement as the fresh rescore found them: Django's flush SQL,
    on PostgreSQL a TRUNCATE, so that it does not write beside the dead rows and index entries of the one
    before (nothing points at these tables: no cascade is needed)."""
    from django.core.management.color import no_style

    from kpi.models import Score, TableScore, TableSummary

    tables = [model._meta.db_table for model in (Score, TableScore, TableSummary)]
    connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), tables))
