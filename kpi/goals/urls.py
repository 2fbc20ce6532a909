from django.urls import path

from . import views

app_name = "goals"
urlpatterns = [
    path("units/projects/<int:pk>/lead/", views.project_lead, name="lead"),
    path("units/tables/<int:pk>/approve/", views.table_approve, name="approve"),
]
