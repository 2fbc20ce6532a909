from django.contrib import admin

from .models import (
    Actual,
    Evidence,
    GoalTable,
    Indicator,
    IndicatorChange,
    Report,
    RescoreJob,
    Score,
    ScoringPolicy,
    SelfEvalReport,
    TableScore,
)

ADMIN_SOURCE = "管理后台"  # the source an IndicatorChange made here records


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ("order", "level1", "level2", "name", "target_raw", "target_kind", "unit", "weight", "rule",
              "not_applicable", "not_applicable_reason")
    # Parsed from 指标值 on every save (kpi.goals.services.indicator_update): never edited by hand.
    readonly_fields = ("target_kind", "unit")


@admin.register(GoalTable)
class GoalTableAdmin(admin.ModelAdmin):
    """Edits go through the services: the history records who, the indicators' targets are parsed again,
    target changes are kept as IndicatorChange, and the table is rescored."""

    list_display = ("__str__", "scope", "unit", "year", "status", "scored_at")
    list_filter = ("scope", "status", "year", "unit")
    search_fields = ("project__name", "unit__name")
    list_select_related = ("unit", "project")
    readonly_fields = ("changed_at", "scored_at")
    inlines = [IndicatorInline]

    def save_model(self, request, obj, form, change):
        from .goals.services import goal_table_update

        goal_table_update(table=obj, user=request.user)

    def save_formset(self, request, form, formset, change):
        from .goals.services import indicator_delete, indicator_update

        for indicator in formset.save(commit=False):
            indicator_update(indicator=indicator, user=request.user, source=ADMIN_SOURCE)
        for indicator in formset.deleted_objects:
            indicator_delete(indicator=indicator, user=request.user)


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ("name", "table", "level1", "level2", "target_raw", "target_kind", "weight", "rule")
    list_filter = ("target_kind", "rule", "level1")
    search_fields = ("name", "table__project__name")
    list_select_related = ("table__unit", "table__project")
    readonly_fields = ("target_kind", "target_value", "target_upper", "unit", "target_flags")

    def save_model(self, request, obj, form, change):
        from .goals.services import indicator_update

        indicator_update(indicator=obj, user=request.user, source=ADMIN_SOURCE)

    def delete_model(self, request, obj):
        from .goals.services import indicator_delete

        indicator_delete(indicator=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        from .goals.services import indicator_delete

        for indicator in queryset:
            indicator_delete(indicator=indicator, user=request.user)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("table", "as_of", "status", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at")
    list_filter = ("status", "as_of")
    list_select_related = ("table__unit", "table__project", "submitted_by", "reviewed_by")
    readonly_fields = ("status", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at", "review_note")


@admin.register(Actual)
class ActualAdmin(admin.ModelAdmin):
    list_display = ("indicator", "as_of", "value", "met", "grade", "points", "report", "recorded_by", "recorded_at")
    list_select_related = ("indicator", "recorded_by", "report__table__project", "report__table__unit")
    raw_id_fields = ("indicator", "replaces", "report")

    def has_change_permission(self, request, obj=None):
        return False  # append-only: a correction is a new row


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ("indicator", "as_of", "official", "points", "ratio", "explanation", "policy_version",
                    "computed_at")
    list_filter = ("official", "as_of", "policy_version")
    list_select_related = ("indicator",)
    search_fields = ("indicator__name",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TableScore)
class TableScoreAdmin(admin.ModelAdmin):
    list_display = ("table", "as_of", "official", "execution_rate", "execution_points", "indicator_points", "total",
                    "grade")
    list_select_related = ("table__unit", "table__project")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ScoringPolicy)
class ScoringPolicyAdmin(admin.ModelAdmin):
    """The same form as the 评分政策 pages (kpi.policies.forms.PolicyForm: 执行率封顶 typed one a line, every
    setting checked); a save is a new version that marks the tables it concerns for rescoring. The pages
    also preview a change before saving it."""

    list_display = ("name", "year", "region", "execution_weight", "execution_caps", "whole_points",
                    "overachievement_deduction", "reverse_formula", "version", "updated_at")
    list_filter = ("year", "region")
    readonly_fields = ("version", "updated_at")

    def get_form(self, request, obj=None, change=False, **kwargs):
        from .policies.forms import PolicyForm

        kwargs["form"] = PolicyForm
        kwargs["fields"] = [*PolicyForm.Meta.fields, "caps"]
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        from .rescoring.services import scoring_policy_save

        scoring_policy_save(policy=obj)


@admin.register(RescoreJob)
class RescoreJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "unit", "year", "status", "done_tables", "total_tables", "created_at", "finished_at")
    readonly_fields = ("status", "total_tables", "done_tables", "error", "finished_at")


@admin.register(SelfEvalReport)
class SelfEvalReportAdmin(admin.ModelAdmin):
    list_display = ("unit", "year", "table", "format", "status", "policy_version", "generated_at", "generated_by")
    list_filter = ("year", "format", "status")
    readonly_fields = ("snapshot",)


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ("original_name", "indicator", "content_type", "size", "uploaded_by", "uploaded_at")
    search_fields = ("original_name", "indicator__name")


@admin.register(IndicatorChange)
class IndicatorChangeAdmin(admin.ModelAdmin):
    list_display = ("indicator", "field", "old_value", "new_value", "source", "changed_by", "changed_at")
    list_filter = ("field",)
