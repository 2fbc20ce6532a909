"""Forms of the 指标库 pages: the list's filters (django-filter) and the curation forms."""
from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from kpi.models import LibraryEntry

from .selectors import MAX_QUERY, clean_query, library_level1_choices, library_level2_choices, matching

TEXT_LIMIT = 4000  # 指标解释 / 评（扣）分标准: a paragraph or two, never a document


class LibraryFilter(django_filters.FilterSet):
    """搜索 (三级/二级 names), 一级, 二级, 推荐 — every filter runs in the database."""

    q = django_filters.CharFilter(label="搜索", method="filter_q", max_length=MAX_QUERY)
    level1 = django_filters.ChoiceFilter(label="一级指标", choices=(), empty_label="全部")
    level2 = django_filters.ChoiceFilter(label="二级指标", choices=(), empty_label="全部")
    recommended = django_filters.ChoiceFilter(
        label="推荐", choices=[("1", "仅推荐"), ("0", "未推荐")], method="filter_recommended", empty_label="全部")

    class Meta:
        model = LibraryEntry
        fields = ("q", "level1", "level2", "recommended")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["level1"].extra["choices"] = [(v, v) for v in library_level1_choices()]
        self.filters["level2"].extra["choices"] = [(v, v) for v in library_level2_choices()]
        self.form.fields["q"].widget.attrs.update(placeholder="三级或二级指标名称", maxlength=MAX_QUERY)
        self.form.fields["q"].error_messages["max_length"] = f"搜索内容过长（最多 {MAX_QUERY} 个字）。"

    def filter_q(self, queryset, name, value):
        try:
            return matching(queryset, clean_query(value))
        except ValidationError:
            return queryset.none()

    def filter_recommended(self, queryset, name, value):
        return queryset.filter(recommended=value == "1")


class EntryForm(forms.ModelForm):
    """What a curator edits: the names, 指标解释, 评（扣）分标准, the defaults and 推荐."""

    class Meta:
        model = LibraryEntry
        fields = ("level1", "level2", "name", "explanation", "standard", "target_kind", "unit", "rule",
                  "accumulation", "recommended")
        widgets = {"explanation": forms.Textarea(attrs={"rows": 4}), "standard": forms.Textarea(attrs={"rows": 4})}

    def clean_explanation(self):
        return _bounded(self.cleaned_data["explanation"], "指标解释")

    def clean_standard(self):
        return _bounded(self.cleaned_data["standard"], "评（扣）分标准")


def _bounded(text: str, label: str) -> str:
    text = (text or "").strip()
    if len(text) > TEXT_LIMIT:
        raise ValidationError(f"{label}过长（最多 {TEXT_LIMIT} 个字，现有 {len(text)} 个）。")
    return text


class MergeForm(forms.Form):
    """The entry a synonym merges into, chosen among the candidates shown."""

    into = forms.TypedChoiceField(label="归并到", coerce=int, choices=(),
                                  error_messages={"required": "请选择要归并到的条目。",
                                                  "invalid_choice": "所选条目不存在或不能作为归并目标。"})

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {entry.pk: entry for entry in candidates}
        self.fields["into"].choices = [
            (entry.pk, f"{entry.level1} / {entry.level2} / {entry.name}（使用 {entry.uses_count} 次）")
            for entry in candidates
        ]
