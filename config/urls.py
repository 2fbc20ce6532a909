from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kpi import actuals_import_views
from kpi import entry_views
from kpi import views as kpi_views
from kpi.importers import views as import_views

admin.site.site_header = "绩效 Jixiao 管理后台"
admin.site.site_title = "Jixiao"


def superusers_only(request) -> bool:
    """The admin site is for superusers: staff status alone opens nothing (everyone else uses the app's pages)."""
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = superusers_only

urlpatterns = [
    path("", kpi_views.home, name="home"),
    path("projects/<int:pk>/", kpi_views.project_detail, name="project-detail"),
    path("projects/<int:pk>/report/", entry_views.project_report_page, name="project-report"),
    path("tables/<int:pk>/report/", entry_views.report_page, name="table-report"),
    path("tables/<int:pk>/execution/", entry_views.execution_save, name="execution-save"),
    path("tables/<int:pk>/indicators/<int:indicator_pk>/evidence/", entry_views.evidence_upload,
         name="evidence-upload"),
    path("reports/<int:pk>/review/", entry_views.report_review, name="report-review"),
    path("evidence/<int:pk>/", entry_views.evidence_download, name="evidence-download"),
    path("units/", include("budgets.urls")),
    path("scorecards/", include("kpi.scorecards.urls")),
    path("monitoring/", include("kpi.scorecards.monitoring_urls")),
    path("selfeval/", include("kpi.selfeval.urls")),
    path("actuals/import/", actuals_import_views.upload, name="actuals-import"),
    path("actuals/import/template.csv", actuals_import_views.template, name="actuals-import-template"),
    path("imports/", import_views.upload, name="import-upload"),
    path("imports/template.xlsx", import_views.template, name="import-template"),
    path("imports/<int:pk>/", import_views.detail, name="import-detail"),
    path("imports/<int:pk>/confirm/", import_views.confirm, name="import-confirm"),
    path("tables/<int:pk>/export.xlsx", import_views.export, name="table-export"),
    path("imports/<int:pk>/progress/", import_views.progress, name="import-progress"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
