from django.urls import path

from . import editor_urls, publish_urls, views, workflow_urls

app_name = "goals"
urlpatterns = [
    path("units/projects/<int:pk>/lead/", views.project_lead, name="lead"),
    path("units/tables/<int:pk>/approve/", views.table_approve, name="approve"),
    *editor_urls.urlpatterns,
    *workflow_urls.urlpatterns,
    *publish_urls.urlpatterns,
]
