"""变更记录 page of a project."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from budgets.selectors import projects_for_user

from .selectors import project_history


@login_required
def project_history_page(request, pk: int):
    """变更记录: everything that changed on the project, newest first."""
    project = get_object_or_404(projects_for_user(user=request.user), pk=pk)
    return render(request, "history/project.html", {"project": project, "lines": project_history(project=project)})
