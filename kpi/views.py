from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from budgets.selectors import projects_for_user

from .models import GoalTable
from .selectors import latest_table_scores, project_with_scorecard


@login_required
def home(request):
    """我的项目 — the projects the user may see, each with its latest total."""
    projects = list(projects_for_user(user=request.user).order_by("-year", "unit__code", "name"))
    totals = latest_table_scores(tables=GoalTable.objects.filter(project__in=projects))
    table_of = dict(GoalTable.objects.filter(project__in=projects).values_list("project_id", "pk"))
    for project in projects:
        project.latest_total = totals.get(table_of.get(project.pk))
    return render(request, "kpi/home.html", {"projects": projects})


@login_required
def project_detail(request, pk: int):
    """A project's goal table with every indicator's latest actual and score."""
    project = get_object_or_404(projects_for_user(user=request.user), pk=pk)
    table, indicators, totals = project_with_scorecard(project=project)
    return render(
        request,
        "kpi/project_detail.html",
        {"project": project, "table": table, "indicators": indicators, "total": totals["official"],
         "pending_total": totals["pending"]},
    )
