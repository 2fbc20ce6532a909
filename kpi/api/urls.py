"""/api/v1/ — the JSON API, its OpenAPI schema and docs, and the page of one's personal access tokens."""
from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

app_name = "api"
urlpatterns = [
    path("units/", views.UnitList.as_view(), name="units"),
    path("units/<int:pk>/selfeval/<year:year>/", views.UnitSelfEvaluation.as_view(), name="unit-selfeval"),
    path("tables/", views.TableList.as_view(), name="tables"),
    path("tables/<int:pk>/", views.TableDetail.as_view(), name="table"),
    path("tables/<int:pk>/reports/", views.TableReports.as_view(), name="table-reports"),
    path("reports/<int:pk>/submit/", views.ReportSubmit.as_view(), name="report-submit"),
    path("reports/<int:pk>/withdraw/", views.ReportWithdraw.as_view(), name="report-withdraw"),
    path("reports/<int:pk>/approve/", views.ReportApprove.as_view(), name="report-approve"),
    path("reports/<int:pk>/return/", views.ReportReturn.as_view(), name="report-return"),
    path("projects/<int:pk>/execution/", views.ProjectExecution.as_view(), name="project-execution"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs are a page for people: signed in with the site's login (they read the schema with that session).
    path("docs/", login_required(SpectacularSwaggerView.as_view(url_name="api:schema")), name="docs"),
    path("tokens/", views.tokens_page, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
