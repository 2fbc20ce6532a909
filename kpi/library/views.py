"""指标库 pages: the list (search, filters), one entry (defaults, targets and actuals seen), curation for
主管部门/财政 reviewers and superusers, and the JSON search of the editor's picker.

An entry the user may not see is a 404 whatever the method (before the 403 of curation), so an outsider
never learns it exists.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from kpi.permissions import can_curate_library

from . import selectors, services
from .forms import EntryForm, LibraryFilter, MergeForm
from .tables import LibraryTable

FORBIDDEN = "只有主管部门/财政审核人员可以整理指标库。"
PAGE_SIZE = 25


def _entry_or_404(request, pk: int):
    entry = selectors.entry_for_user(user=request.user, pk=pk)
    if entry is None:
        raise Http404("没有这个指标库条目，或您无权查看。")
    return entry


def _require_curator(request) -> None:
    if not can_curate_library(request.user):
        raise PermissionDenied(FORBIDDEN)


class LibraryListView(LoginRequiredMixin, SingleTableMixin, FilterView):
    """指标库: every entry the user may see, recommended first, then the most used."""

    table_class = LibraryTable
    filterset_class = LibraryFilter
    template_name = "library/list.html"
    table_pagination = {"per_page": PAGE_SIZE}

    def get_queryset(self):
        return selectors.entries_for_user(user=self.request.user).order_by(
            "-recommended", "-uses_count", "level1", "level2", "name", "pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_curate"] = can_curate_library(self.request.user)
        return context


library_list = LibraryListView.as_view()


@login_required
def library_detail(request, pk: int):
    entry = _entry_or_404(request, pk)
    if entry.pk != pk:  # a merged synonym: show the entry it stands for
        return redirect("library:detail", pk=entry.pk)
    uses = selectors.entry_uses(entry=entry, user=request.user)
    for use in uses:
        use.actual_shown = selectors.use_actual_text(use)
    return render(request, "library/detail.html", {
        "entry": entry, "uses": uses, "synonyms": selectors.entry_synonyms(entry=entry),
        "typical": selectors.typical_targets([entry.pk]).get(entry.pk, ""),
        "can_curate": can_curate_library(request.user),
    })


@login_required
def library_edit(request, pk: int):
    """指标解释, 评（扣）分标准 and the defaults of an entry: saved as curated (a rebuild keeps them)."""
    entry = _entry_or_404(request, pk)
    _require_curator(request)
    if entry.pk != pk:
        return redirect("library:edit", pk=entry.pk)
    form = EntryForm(request.POST or None, instance=entry)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.library_entry_update(entry=form.instance, user=request.user)
            except ValidationError as error:
                messages.error(request, "未保存：" + "；".join(error.messages))
            else:
                messages.success(request, f"已保存“{entry.name}”。重建指标库时将保留这些内容。")
                return redirect("library:detail", pk=entry.pk)
        else:
            messages.error(request, "未保存：请按提示修改。")
    return render(request, "library/edit.html", {"entry": entry, "form": form})


@require_POST
@login_required
def library_recommend(request, pk: int):
    """Mark or unmark an entry recommended (推荐): recommended entries come first in the picker."""
    entry = _entry_or_404(request, pk)
    _require_curator(request)
    recommended = request.POST.get("recommended") == "1"
    try:
        services.library_entry_set_recommended(entry=entry, recommended=recommended, user=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已{'设为推荐' if recommended else '取消推荐'}：“{entry.name}”。")
    return redirect("library:detail", pk=entry.pk)


@login_required
def library_merge(request, pk: int):
    """Merge this entry (a synonym) into another one: its uses move there, its spelling keeps landing there."""
    entry = _entry_or_404(request, pk)
    _require_curator(request)
    if entry.pk != pk:
        return redirect("library:detail", pk=entry.pk)
    q = request.GET.get("q", "")
    try:
        candidates = selectors.merge_candidates(entry=entry, user=request.user, q=q)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        q, candidates = "", selectors.merge_candidates(entry=entry, user=request.user)
    if request.method == "POST":
        # The chosen entry is checked against every entry the user may merge into, not only the ones shown.
        chosen = request.POST.get("into", "")
        target = selectors.entry_for_user(user=request.user, pk=int(chosen)) if chosen.isdigit() else None
        form = MergeForm(request.POST, candidates=[*candidates, *([target] if target else [])])
        if form.is_valid():
            into = form.candidates[form.cleaned_data["into"]]
            try:
                into = services.library_entry_merge(entry=entry, into=into, user=request.user)
            except ValidationError as error:
                messages.error(request, "未归并：" + "；".join(error.messages))
            else:
                messages.success(request, f"已将“{entry.name}”归并到“{into.name}”，其使用记录已一并转入。")
                return redirect("library:detail", pk=into.pk)
    else:
        form = MergeForm(candidates=candidates)
    return render(request, "library/merge.html", {"entry": entry, "form": form, "candidates": candidates, "q": q})


@require_GET
@login_required
def library_search(request):
    """JSON for the editor's picker: {"results": [...]} (see selectors.library_search)."""
    try:
        limit = int(request.GET.get("limit", 20))
    except ValueError:
        limit = 20
    try:
        results = selectors.library_search(request.GET.get("q", ""), request.GET.get("level1") or None,
                                           limit, user=request.user)
    except ValidationError as error:
        return JsonResponse({"error": "；".join(error.messages), "results": []}, status=400)
    return JsonResponse({"results": results}, json_dumps_params={"ensure_ascii": False})
