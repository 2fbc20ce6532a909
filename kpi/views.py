from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from budgets.selectors import is_unit_admin, projects_editable_by, projects_for_user, units_administered_by

from .models import GoalTable
from .scorecards.selectors import project_scorecard
from .selectors import latest_table_scores, project_with_scorecard, table_statuses
from .services import goal_tables_rescore_stale


@login_required
def home(request):
    """我的项目 — the projects the user may see, each with its latest total."""
    projects = list(projects_for_user(user=request.user).order_by("-year", "unit__code", "name"))
    tables = list(GoalTable.objects.filter(project__in=projects).select_related("project"))
    totals = latest_table_scores(tables=GoalTable.objects.filter(project__in=projects))
    pending = latest_table_scores(tables=GoalTable.objects.filter(project__in=projects), official=False)
    statuses = table_statuses(tables=tables)
    table_of = {t.project_id: t for t in tables}
    editable = set(projects_editable_by(user=request.user).filter(pk__in=[p.pk for p in projects])
                   .values_list("pk", flat=True))
    for project in projects:
        table = table_of.get(project.pk)
        project.table = table
        project.latest_total = totals.get(table.pk) if table else None
        project.pending_total = pending.get(table.pk) if table else None
        project.status = statuses.get(table.pk) if table else None
        project.can_edit = project.pk in editable
    unit_tables = GoalTable.objects.filter(
        scope=GoalTable.Scope.UNIT, unit__in=units_administered_by(user=request.user)
    ).select_related("unit").order_by("-year", "unit__code")
    return render(request, "kpi/home.html", {"projects": projects, "unit_tables": unit_tables})


@login_required
def project_detail(request, pk: int):
    """A project's goal table with every indicator's latest actual and score."""
    project = get_object_or_404(projects_for_user(user=request.user), pk=pk)
    goal_tables_rescore_stale(tables=GoalTable.objects.filter(project=project))  # a live scorecard
    table, indicators, totals = project_with_scorecard(project=project)
    scorecard = project_scorecard(project=project, table=table, indicators=indicators, user=request.user)
    can_administer = is_unit_admin(user=request.user, unit_id=project.unit_id)
    return render(
        request,
        "kpi/project_detail.html",
        {"project": project, "table": table, "indicators": indicators, "total": totals["official"],
         "pending_total": totals["pending"], "can_administer": can_administer, "scorecard": scorecard,
         "can_approve_table": can_administer and table is not None and table.status == GoalTable.Status.DRAFT},
    )
