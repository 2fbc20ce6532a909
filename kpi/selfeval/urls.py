"""绩效自评: the year-end self-evaluation reports (JSON, xlsx, PDF) and their bulk generation."""
from django.urls import path

from . import views

urlpatterns = [
    path("tables/<int:table_pk>/download/", views.download, name="selfeval-download"),
    path("units/<int:unit_pk>/<int:year>/", views.unit_page, name="selfeval-unit"),
    path("units/<int:unit_pk>/<int:year>/bundle/", views.bundle_start, name="selfeval-bundle"),
    path("reports/<int:pk>/progress/", views.progress, name="selfeval-progress"),
    path("reports/<int:pk>/file/", views.report_file, name="selfeval-file"),
]
