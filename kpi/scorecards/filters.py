"""django-filter filter sets of the scorecards."""
from __future__ import annotations

import django_filters
from django.db.models import Q

from budgets.models import Project

from .selectors import GRADES, LIGHTS, UNSCORED

UNSCORED_CHOICE = "none"


class UnitScorecardFilter(django_filters.FilterSet):
    """Filters of the unit scorecard: name contains, lead, grade, light.

    Lights and grades are the annotations of `scorecard_rows` (the stored table summaries): every filter
    runs in the database.
    """

    name = django_filters.CharFilter(label="项目名称", lookup_expr="icontains")
    lead = django_filters.CharFilter(label="项目负责人", method="filter_lead")
    grade = django_filters.ChoiceFilter(
        label="等级", choices=[*((g, g) for g in GRADES), (UNSCORED_CHOICE, UNSCORED)], method="filter_grade",
        empty_label="全部",
    )
    light = django_filters.ChoiceFilter(
        label="监控", choices=[(light.value, light.label) for light in LIGHTS], method="filter_light",
        empty_label="全部",
    )

    class Meta:
        model = Project
        fields = ("name", "lead", "grade", "light")

    def filter_lead(self, queryset, name, value):
        return queryset.filter(
            Q(lead_name__icontains=value) | Q(lead__first_name__icontains=value)
            | Q(lead__last_name__icontains=value) | Q(lead__username__icontains=value)
        )

    def filter_grade(self, queryset, name, value):
        if value == UNSCORED_CHOICE:
            return queryset.filter(grade__isnull=True)
        return queryset.filter(grade=value)

    def filter_light(self, queryset, name, value):
        # `none` includes the projects without a goal table (the annotation's default)
        return queryset.filter(light=value)
