"""绩效自评: the year-end self-evaluation reports (JSON, xlsx, PDF) and their bulk generation."""
from django.urls import path

from . import views

app_name = "selfeval"
urlpatterns = [
    path("selfeval/tables/<int:table_pk>/download/", views.download, name="download"),
    path("selfeval/units/<int:unit_pk>/<year:year>/", views.unit_page, name="unit"),
    path("selfeval/units/<int:unit_pk>/<year:year>/bundle/", views.bundle_start, name="bundle"),
    path("selfeval/reports/<int:pk>/progress/", views.progress, name="progress"),
    path("selfeval/reports/<int:pk>/file/", views.report_file, name="file"),
]
