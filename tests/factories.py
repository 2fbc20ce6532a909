"""Test data built the way users build it: through the services."""
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from budgets.models import Project, Unit
from budgets.services import project_create, unit_create
from kpi.goals.services import goal_table_create, indicator_create


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


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    unit = factory.SubFactory(UnitFactory)
    year = 2026
    name = factory.Sequence(lambda n: f"测试项目{n}")
    lead_name = "张三"
    budget_initial = Decimal("100.00")
    fiscal = Decimal("100.00")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return project_create(**kwargs)


def table_with_indicators(project=None, rows=None, *, unit=None, year=2026):
    """A goal table with indicator rows (level1, level2, name, target, weight[, rule]); returns (table, indicators)."""
    project = project if project is not None or unit is not None else ProjectFactory()
    table = goal_table_create(
        unit=project.unit if project else unit, year=project.year if project else year, project=project
    )
    rows = rows or [
        ("产出指标", "数量指标", "培训人次", ">=100人次", Decimal("40")),
        ("产出指标", "质量指标", "合格率", ">=95%", Decimal("20")),
        ("成本指标", "经济成本指标", "人均成本", "<=50元/人", Decimal("20")),
        ("满意度指标", "服务对象满意度指标", "满意度", ">=90%", Decimal("10"), "满意度赋分"),
    ]
    indicators = [
        indicator_create(
            table=table, level1=r[0], level2=r[1], name=r[2], target_raw=r[3], weight=Decimal(r[4]),
            rule=r[5] if len(r) > 5 else None,
        )
        for r in rows
    ]
    return table, indicators


def approve_reports(table):
    """Submit and approve every open report of the table, as the lead and the administrator would."""
    from kpi.models import Report
    from kpi.reports.services import report_approve, report_submit

    for report in Report.objects.filter(table=table, status__in=Report.OPEN).order_by("as_of"):
        if report.status == Report.Status.DRAFT:
            report = report_submit(report=report)
        report_approve(report=report)


def rescore_stale():
    """What the rescore task does after each change (most tests run no worker): score every stale table."""
    from kpi.models import GoalTable
    from kpi.rescoring.services import goal_tables_rescore_stale

    return goal_tables_rescore_stale(tables=GoalTable.objects.all())
