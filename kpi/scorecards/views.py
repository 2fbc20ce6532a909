"""绩效看板: 我的项目, the project page, the unit scorecard (sortable, filterable, exportable), the 主管部门
roll-up and their charts. Pages read stored scores only: a table changed since it was last scored says
so ("评分更新中") while the rescore task catches up, never rescored inside the request."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from budgets.models import Project, Unit
from budgets.selectors import projects_editable_by, projects_for_user, units_administered_by, units_for_user
from budgets.years import year_valid
from kpi import permissions
from kpi.models import GoalTable, Report
from kpi.monitoring.selectors import table_statuses
from kpi.reminders.selectors import overdue_projects, reminder_period, report_dates_needing

from .export import SafeTableExport
from .filters import UnitScorecardFilter
from .selectors import (
    Summary,
    latest_table_scores,
    policy_keys_and_stale,
    project_scorecard,
    project_with_scorecard,
    scorecard_rows,
    stale_tables_count,
    table_scorecard,
    unit_chart_data,
    unit_summaries,
    unit_table_of,
)
from .tables import UnitScorecardTable

HOME_PAGE_SIZE = 50


@login_required
def home(request):
    """我的项目 — the projects the user may see, 50 a page (a finance bureau sees thousands), each with its
    latest total and a 填报 link on the date that needs the person (a returned or draft report's, else the
    month due); a lead also sees what is due this month (their projects not yet reported for last month, due
    by JIXIAO_REMINDER_DAY)."""
    visible = projects_for_user(user=request.user).order_by("-year", "unit__code", "name", "pk")
    page = Paginator(visible, HOME_PAGE_SIZE).get_page(request.GET.get("page"))
    projects = list(page.object_list)
    tables = list(GoalTable.objects.filter(project__in=projects).select_related("project"))
    totals = latest_table_scores(tables=GoalTable.objects.filter(project__in=projects))
    pending = latest_table_scores(tables=GoalTable.objects.filter(project__in=projects), official=False)
    statuses = table_statuses(tables=tables)
    table_of = {t.project_id: t for t in tables}
    editable = set(projects_editable_by(user=request.user).filter(pk__in=[p.pk for p in projects])
                   .values_list("pk", flat=True))
    unit_tables = list(GoalTable.objects.filter(
        scope=GoalTable.Scope.UNIT, unit__in=units_administered_by(user=request.user)
    ).select_related("unit").order_by("-year", "unit__code"))
    today = timezone.localdate()
    due = report_dates_needing(tables=tables + unit_tables, today=today)
    for project in projects:
        table = table_of.get(project.pk)
        project.table = table
        project.latest_total = totals.get(table.pk) if table else None
        project.pending_total = pending.get(table.pk) if table else None
        project.status = statuses.get(table.pk) if table else None
        project.can_edit = project.pk in editable
        project.due = due.get(table.pk) if table else None
        # Submitted reports other than the one the status column shows: a pending report never hides.
        shown_waiting = bool(project.status and project.status.report
                             and project.status.report.status == Report.Status.SUBMITTED)
        project.waiting_other = (project.due.waiting - shown_waiting) if project.due else 0
    for table in unit_tables:
        table.due = due.get(table.pk)
    period = reminder_period(today=today)
    leads = any(p.lead_id == request.user.pk for p in projects) or (
        page.paginator.num_pages > 1 and visible.filter(lead=request.user).exists())
    return render(request, "scorecards/my_projects.html", {
        "projects": projects, "page": page, "unit_tables": unit_tables, "period": period, "leads": leads,
        "due_now": overdue_projects(period=period, lead=request.user) if leads else [],
        "past_due": today > period.due, "reminder_day": settings.JIXIAO_REMINDER_DAY,
    })


@login_required
def project_detail(request, pk: int):
    """A project's goal table with every indicator's latest actual and score."""
    project = get_object_or_404(projects_for_user(user=request.user), pk=pk)
    table, indicators, totals = project_with_scorecard(project=project)
    scorecard = project_scorecard(project=project, table=table, indicators=indicators, user=request.user)
    can_administer = permissions.can_administer_unit(request.user, project.unit_id)
    return render(
        request,
        "scorecards/project.html",
        {"project": project, "table": table, "indicators": indicators, "total": totals["official"],
         "pending_total": totals["pending"], "can_administer": can_administer, "scorecard": scorecard,
         # the direct 批复 is for imported tables only (permissions.can_approve_table, without its query again)
         "can_approve_table": table is not None and can_administer and table.status == GoalTable.Status.DRAFT
         and bool(table.source),
         "stale": table is not None and table.is_stale},
    )

PAGE_SIZE = 25


class CountedPaginator(Paginator):
    """A paginator told its count (already known from an aggregate) instead of asking the database."""

    def __init__(self, object_list, per_page, *args, count: int, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


class UnitScorecardView(LoginRequiredMixin, ExportMixin, SingleTableMixin, FilterView):
    """单位绩效看板 — every project of a unit and year with its execution, scores, grade and light, read from
    the stored table summaries (sorted, filtered, counted in the database; one page of rows built).

    Open to the unit's administrators, reviewers above it and superusers (404 to anyone else).
    """

    table_class = UnitScorecardTable
    filterset_class = UnitScorecardFilter
    template_name = "scorecards/unit.html"
    table_pagination = {"per_page": PAGE_SIZE}
    export_class = SafeTableExport
    export_formats = (SafeTableExport.XLSX, SafeTableExport.CSV)
    dataset_kwargs = {"title": "单位绩效看板"}

    def dispatch(self, request, *args, **kwargs):
        # Before the method check: an outsider gets 404 whatever the method, never a 405 that confirms the unit.
        if request.user.is_authenticated:
            self.unit = get_object_or_404(units_for_user(user=request.user), pk=kwargs["unit_pk"])
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        self.year = kwargs["year"]
        # What names the policies of the unit's tables on the page (unit.html: tables_policies view.tables),
        # and how many of them wait for their rescore, in one query.
        self.tables, self.stale = policy_keys_and_stale(unit_ids=[self.unit.pk], year=self.year)
        # The header counts every project, whatever the filter.
        self.summary = None if self.export_format else unit_summaries(unit_ids=[self.unit.pk], year=self.year)[
            self.unit.pk]
        return super().get(request, *args, **kwargs)

    def get_table_pagination(self, table):
        pagination = super().get_table_pagination(table)
        if self.summary is not None and not any(
            self.request.GET.get(name, "").strip() for name in self.filterset_class.base_filters
        ):
            # Unfiltered, the rows are the unit's projects of the year, which the header's aggregate counted.
            pagination = {**pagination, "paginator_class": CountedPaginator, "count": self.summary.projects}
        return pagination

    @property
    def export_format(self) -> str | None:
        requested = self.request.GET.get(self.export_trigger_param)
        return requested if requested in self.export_formats else None

    def get_queryset(self):
        # Built once (the filter and the chart both start from it; each clones it, none evaluates it).
        if getattr(self, "_rows", None) is None:
            self._rows = scorecard_rows(unit=self.unit, year=self.year)
        return self._rows

    def get_export_filename(self, export_format):
        return f"scorecard-unit{self.unit.pk}-{self.year}.{export_format}"

    def get_context_data(self, **kwargs):
        if self.export_format:
            return kwargs  # the export builds its own table of every filtered row
        context = super().get_context_data(**kwargs)
        summary = self.summary
        unit_table = unit_table_of(unit=self.unit, year=self.year)
        unit_indicators, unit_totals = table_scorecard(table=unit_table) if unit_table else ([], {})
        unit_status = (table_statuses(tables=[unit_table], indicators=unit_indicators)[unit_table.pk]
                       if unit_table else None)
        for indicator in unit_indicators:
            indicator.light = unit_status.indicator_lights.get(indicator.pk)
        years = sorted(
            {self.year, *Project.objects.filter(unit=self.unit).order_by().values_list("year", flat=True).distinct()},
            reverse=True,
        )
        context.update(
            unit=self.unit, year=self.year, years=years, summary=summary,
            chart=unit_chart_data(self.get_queryset(), summary),
            unit_table=unit_table, unit_indicators=unit_indicators,
            unit_total=unit_totals.get("official"), unit_pending_total=unit_totals.get("pending"),
            unit_status=unit_status,
            export_formats=self.export_formats, export_param=self.export_trigger_param,
            stale=self.stale,
        )
        return context

    def render_to_response(self, context, **kwargs):
        # Only the offered formats: ExportMixin alone would try any tablib format (yaml, json, …).
        if self.export_format:
            return self.create_export(self.export_format)
        return super(ExportMixin, self).render_to_response(context, **kwargs)


unit_scorecard = UnitScorecardView.as_view()


@dataclass
class TreeRow:
    """One unit of the roll-up: its depth in the visible tree, its own figures and, for a unit with
    units under it, the figures of its whole visible subtree."""

    unit: Unit
    depth: int
    summary: Summary
    subtree: Summary | None = None


def unit_tree(units: list[Unit], summaries: dict[int, Summary]) -> list[TreeRow]:
    """The visible units depth first by code; a unit whose parent is not visible is a root."""
    by_pk = {u.pk: u for u in units}
    children: dict[int | None, list[Unit]] = {}
    for unit in sorted(units, key=lambda u: u.code):
        children.setdefault(unit.parent_id if unit.parent_id in by_pk else None, []).append(unit)
    rows: list[TreeRow] = []

    def walk(unit: Unit, depth: int) -> Summary:
        row = TreeRow(unit, depth, summaries[unit.pk])
        rows.append(row)
        below = children.get(unit.pk, [])
        if not below:
            return row.summary
        row.subtree = Summary()
        row.subtree.add(row.summary)
        for child in below:
            row.subtree.add(walk(child, depth + 1))
        return row.subtree

    for root in children.get(None, []):
        walk(root, 0)
    return rows


def _year(request, default: int) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return default
    return year if year_valid(year) else default


@login_required
def rollup(request):
    """绩效看板 — the units the user may see as a tree, each with its figures and lights for a year, aggregated
    in the database from the stored table summaries (one query for every unit), the subtrees summed in Python
    over the tree (no query per level)."""
    units = list(units_for_user(user=request.user).order_by("code"))
    unit_ids = [u.pk for u in units]
    years = sorted(set(GoalTable.objects.filter(unit_id__in=unit_ids).order_by().values_list("year", flat=True)
                       .distinct()), reverse=True)
    year = _year(request, default=years[0] if years else timezone.localdate().year)
    summaries = unit_summaries(unit_ids=unit_ids, year=year)
    overall = Summary()
    for summary in summaries.values():
        overall.add(summary)
    return render(request, "scorecards/home.html", {
        "year": year, "years": sorted({year, *years}, reverse=True), "rows": unit_tree(units, summaries),
        "overall": overall, "stale": stale_tables_count(unit_ids=unit_ids, year=year),
        "can_manage_policies": permissions.can_manage_policies(request.user),
    })
