from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("projects/<int:pk>/report/", views.project_report_page, name="project"),
    path("tables/<int:pk>/report/", views.report_page, name="table"),
    path("tables/<int:pk>/execution/", views.execution_save, name="execution"),
    path("tables/<int:pk>/indicators/<int:indicator_pk>/evidence/", views.evidence_upload, name="evidence-upload"),
    path("reports/<int:pk>/review/", views.report_review, name="review"),
    path("reports/<int:pk>/withdraw/", views.report_withdraw, name="withdraw"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
]
