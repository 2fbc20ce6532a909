from django.urls import path

from . import monitoring_views

urlpatterns = [
    path("units/<int:unit_pk>/<int:year>/", monitoring_views.unit_monitoring, name="monitoring-unit"),
    path("units/<int:unit_pk>/<int:year>/download.xlsx", monitoring_views.unit_monitoring_xlsx,
         name="monitoring-unit-xlsx"),
]
