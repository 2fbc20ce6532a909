from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("monitoring/", views.monitoring_home, name="home"),
    path("monitoring/units/<int:unit_pk>/<year:year>/", views.unit_monitoring, name="unit"),
    path("monitoring/units/<int:unit_pk>/<year:year>/download.xlsx", views.unit_monitoring_xlsx, name="unit-xlsx"),
    path("monitoring/units/<int:unit_pk>/<year:year>/export/", views.unit_monitoring_export, name="unit-export"),
    path("monitoring/exports/<str:token>/", views.export_progress, name="export-progress"),
    path("monitoring/exports/<str:token>/file.xlsx", views.export_file, name="export-file"),
]
