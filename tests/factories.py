"""Test data built the way users build it: through the services.

One factory per model a test builds. Each `_create` calls the service a user's action goes through (a form,
an import, a task), so a factory-made row has passed the same checks and left the same traces (history,
"评分更新中" marks, enqueued rescores) as a real one. Arguments that are not model fields (`user`, `upload`,
`max_bytes`, …) are the service's own.
"""
import datetime as dt
from decimal import Decimal
from pathlib import Path

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from budgets.models import BudgetExecution, Project, Unit, UnitBudget, UnitMembership, UnitYear
from budgets.services import membership_grant, project_create, unit_budget_adjust, unit_create
from kpi.goals.services import goal_table_create, indicator_create
from kpi.models import (
    Actual,
    Evidence,
    GoalTable,
    ImportJob,
    Indicator,
    Report,
    RescoreJob,
    ScoringPolicy,
    SelfEvalReport,
)

YEAR = 2026
DEMO_DISCLOSURE = Path(__file__).resolve().parents[1] / "kpi" / "demo" / "demo-disclosure-2026.txt"
TINY_PDF = b"%PDF-1.4\n%%EOF"


def july_31(year: int) -> dt.date:
    """The mid-year monitoring date (1–7月) the tests report as of by default."""
    return dt.date(year, 7, 31)


# --- budgets: users, units, roles, projects, funds, execution, the year ----------------------------------

class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.django.Password("pw-for-tests-123")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.Sequence(lambda n: f"测试单位{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return unit_create(**kwargs)


class UnitMembershipFactory(factory.django.DjangoModelFactory):
    """A role in a unit (budgets.services.membership_grant; pass `granted_by` to record who gave it)."""

    class Meta:
        model = UnitMembership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory)
    role = "admin"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return membership_grant(**kwargs)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    unit = factory.SubFactory(UnitFactory)
    year = YEAR
    name = factory.Sequence(lambda n: f"测试项目{n}")
    lead_name = "张三"
    budget_initial = Decimal("100.00")
    fiscal = Decimal("100.00")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return project_create(**kwargs)


class UnitBudgetFactory(factory.django.DjangoModelFactory):
    """A unit's 年度预算 as published in its 部门整体 table; `adjusted` (with `adjustment_reason`) then goes
    through budgets.services.unit_budget_adjust, as the report page's budget form does.

    The published figures come from the disclosure import, whose budget step is private to the import:
    they are saved here the way it saves them (checked, then saved).
    """

    class Meta:
        model = UnitBudget

    unit = factory.SubFactory(UnitFactory)
    year = YEAR
    fiscal_superior = Decimal("0")
    fiscal_local = Decimal("100.00")
    other = Decimal("0")

    @classmethod
    def _create(cls, model_class, *args, adjusted=None, adjustment_reason="", user=None, **kwargs):
        budget = model_class(**kwargs)
        budget.full_clean()
        budget.save()
        if adjusted is not None:
            budget = unit_budget_adjust(unit=budget.unit, year=budget.year, adjusted=adjusted,
                                        reason=adjustment_reason or "预算调整", user=user)
        return budget


class BudgetExecutionFactory(factory.django.DjangoModelFactory):
    """执行数 of a project, or with project=None, unit and year, of the unit itself
    (kpi.reports.services.execution_report, which also marks the fed goal table for rescoring)."""

    class Meta:
        model = BudgetExecution

    project = factory.SubFactory(ProjectFactory)
    unit = None
    year = None
    as_of = factory.LazyAttribute(lambda o: july_31(o.project.year if o.project else o.year))
    executed = Decimal("50.00")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from kpi.reports.services import execution_report

        return execution_report(**kwargs)


class UnitYearFactory(factory.django.DjangoModelFactory):
    """A closed year (关账, kpi.yearclose.services.unit_year_close: its goal tables close too); with
    closed=False, a year closed and then reopened with `reason`."""

    class Meta:
        model = UnitYear

    unit = factory.SubFactory(UnitFactory)
    year = YEAR
    closed = True
    user = None
    reason = "补录数据"

    @classmethod
    def _create(cls, model_class, *args, closed, reason, **kwargs):
        from kpi.yearclose.services import unit_year_close, unit_year_reopen

        unit_year = unit_year_close(**kwargs)
        return unit_year if closed else unit_year_reopen(reason=reason, **kwargs)


# --- kpi: goal tables, indicators, reports, actuals, evidence --------------------------------------------

class GoalTableFactory(factory.django.DjangoModelFactory):
    """A project's goal table, or with project=None (and a unit) the unit's 部门整体 table."""

    class Meta:
        model = GoalTable

    project = factory.SubFactory(ProjectFactory)
    unit = factory.Maybe("project", yes_declaration=factory.SelfAttribute("project.unit"),
                         no_declaration=factory.SubFactory(UnitFactory))
    year = factory.Maybe("project", yes_declaration=factory.SelfAttribute("project.year"), no_declaration=YEAR)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return goal_table_create(**kwargs)


class IndicatorFactory(factory.django.DjangoModelFactory):
    """An indicator row; its 指标值 is parsed and its rule defaults to the kind's rule (indicator_create)."""

    class Meta:
        model = Indicator

    table = factory.SubFactory(GoalTableFactory)
    level1 = "产出指标"
    level2 = "数量指标"
    name = factory.Sequence(lambda n: f"测试指标{n}")
    target_raw = ">=100人次"
    weight = Decimal("10")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return indicator_create(**kwargs)


class ReportFactory(factory.django.DjangoModelFactory):
    """The draft report of a table for a date (kpi.reports.services.report_open)."""

    class Meta:
        model = Report

    table = factory.SubFactory(GoalTableFactory)
    as_of = factory.LazyAttribute(lambda o: july_31(o.table.year))
    user = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from kpi.reports.services import report_open

        return report_open(**kwargs)


class ActualFactory(factory.django.DjangoModelFactory):
    """An actual recorded in the draft report of its date (kpi.reports.services.actual_record). Without
    `met` or `grade` it is a number, 100 unless given."""

    class Meta:
        model = Actual

    indicator = factory.SubFactory(IndicatorFactory)
    as_of = factory.LazyAttribute(lambda o: july_31(o.indicator.table.year))
    met = None
    grade = ""
    value = factory.LazyAttribute(lambda o: None if o.met is not None or o.grade else Decimal("100"))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from kpi.reports.services import actual_record

        return actual_record(**kwargs)


class EvidenceFactory(factory.django.DjangoModelFactory):
    """An evidence file (a tiny PDF unless `upload` is given), checked and stored by evidence_add."""

    class Meta:
        model = Evidence

    indicator = factory.SubFactory(IndicatorFactory)
    upload = factory.LazyFunction(lambda: SimpleUploadedFile("evidence.pdf", TINY_PDF))
    user = None
    max_bytes = factory.LazyFunction(lambda: settings.UPLOAD_MAX_BYTES)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from kpi.reports.services import evidence_add

        return evidence_add(**kwargs)


# --- kpi: policies, jobs, kept reports ----------------------------------------------------------------

class ScoringPolicyFactory(factory.django.DjangoModelFactory):
    """A 评分政策 (kpi.rescoring.services.scoring_policy_save: the tables it governs become stale)."""

    class Meta:
        model = ScoringPolicy

    name = factory.Sequence(lambda n: f"评分政策{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from kpi.rescoring.services import scoring_policy_save

        return scoring_policy_save(policy=model_class(**kwargs))


class RescoreJobFactory(factory.django.DjangoModelFactory):
    """A queued bulk rescore (kpi.rescoring.services.rescore_job_create; its task is enqueued after commit)."""

    class Meta:
        model = RescoreJob

    unit = None
    year = YEAR
    user = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from kpi.rescoring.services import rescore_job_create

        return rescore_job_create(**kwargs)


class ImportJobFactory(factory.django.DjangoModelFactory):
    """An uploaded goal-table file read and kept for preview (kpi.importers.services.import_job_create, then
    what the worker runs, import_job_read), by default the demo disclosure uploaded by a superuser; with
    read=False it stays 读取中."""

    class Meta:
        model = ImportJob

    user = factory.SubFactory(UserFactory, is_superuser=True)
    data = factory.LazyFunction(DEMO_DISCLOSURE.read_bytes)
    filename = DEMO_DISCLOSURE.name

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from kpi.importers.services import import_job_create, import_job_read

        read = kwargs.pop("read", True)
        job = import_job_create(**kwargs)
        if read:
            import_job_read(job_id=job.pk)
            job.refresh_from_db()
        return job


class SelfEvalReportFactory(factory.django.DjangoModelFactory):
    """A kept 自评表 of a table (kpi.selfeval.services.table_report_keep, the 存档 button); with table=None, a
    unit's bundle queued by selfeval_bundle_start and, with run=True, built by its task."""

    class Meta:
        model = SelfEvalReport

    table = factory.SubFactory(GoalTableFactory)
    unit = factory.Maybe("table", yes_declaration=factory.SelfAttribute("table.unit"),
                         no_declaration=factory.SubFactory(UnitFactory))
    year = factory.Maybe("table", yes_declaration=factory.SelfAttribute("table.year"), no_declaration=YEAR)
    format = "xlsx"
    user = None
    run = False

    @classmethod
    def _create(cls, model_class, *args, table, unit, year, format, user, run):
        from kpi.selfeval import services
        from kpi.selfeval.tasks import selfeval_bundle_run

        if table is not None:
            return services.table_report_keep(table=table, fmt=format, user=user)
        report = services.selfeval_bundle_start(unit=unit, year=year, user=user)
        if run:
            selfeval_bundle_run(report.pk)
            report.refresh_from_db()
        return report


# --- helpers ----------------------------------------------------------------------------------------

# The `source` of a table as if imported from a published disclosure (its 批复 happened outside Jixiao, so
# kpi.goals.services.goal_table_approve may approve it directly; a table written in Jixiao is 申报'd instead).
IMPORTED = "测试部门预算公开.txt"


def table_with_indicators(project=None, rows=None, *, unit=None, year=YEAR, source=""):
    """A goal table with indicator rows (level1, level2, name, target, weight[, rule]); returns (table, indicators).
    With `source` (e.g. IMPORTED), the table is as if imported from that disclosure."""
    project = project if project is not None or unit is not None else ProjectFactory()
    if project is not None:
        table = GoalTableFactory(project=project, source=source)
    else:
        table = GoalTableFactory(project=None, unit=unit, year=year, source=source)
    rows = rows or [
        ("产出指标", "数量指标", "培训人次", ">=100人次", Decimal("40")),
        ("产出指标", "质量指标", "合格率", ">=95%", Decimal("20")),
        ("成本指标", "经济成本指标", "人均成本", "<=50元/人", Decimal("20")),
        ("满意度指标", "服务对象满意度指标", "满意度", ">=90%", Decimal("10"), "满意度赋分"),
    ]
    indicators = [
        IndicatorFactory(
            table=table, level1=r[0], level2=r[1], name=r[2], target_raw=r[3], weight=Decimal(r[4]),
            rule=r[5] if len(r) > 5 else None,
        )
        for r in rows
    ]
    return table, indicators


def approve_reports(table):
    """Submit and approve every open report of the table, as the lead and the administrator would."""
    from kpi.reports.services import report_approve, report_submit

    for report in Report.objects.filter(table=table, status__in=Report.OPEN).order_by("as_of"):
        if report.status == Report.Status.DRAFT:
            report = report_submit(report=report)
        report_approve(report=report)


def rescore_stale():
    """What the rescore task does after each change (most tests run no worker): score every stale table."""
    from kpi.rescoring.services import goal_tables_rescore_stale

    return goal_tables_rescore_stale(tables=GoalTable.objects.all())
