from django.contrib import admin

from .models import BudgetExecution, Project, Unit, UnitBudget, UnitMembership


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent")
    search_fields = ("code", "name")


@admin.register(UnitBudget)
class UnitBudgetAdmin(admin.ModelAdmin):
    list_display = ("unit", "year", "fiscal_superior", "fiscal_local", "other", "adjusted")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "year", "lead_name", "lead", "budget_initial", "budget_adjusted")
    list_filter = ("year", "unit")
    search_fields = ("name", "code", "lead_name")
    list_select_related = ("unit", "lead")


@admin.register(BudgetExecution)
class BudgetExecutionAdmin(admin.ModelAdmin):
    list_display = ("project", "unit", "as_of", "executed", "recorded_by", "recorded_at")
    list_select_related = ("project", "unit", "recorded_by")

    def has_change_permission(self, request, obj=None):
        return False  # append-only


@admin.register(UnitMembership)
class UnitMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "unit", "role")
    list_filter = ("role", "unit")
    list_select_related = ("user", "unit")
