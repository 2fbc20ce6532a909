from django.urls import path

from . import views

urlpatterns = [
    path("<int:unit_id>/years/<int:year>/", views.unit_year, name="unit-year"),
    path("projects/<int:pk>/lead/", views.project_lead, name="project-lead"),
    path("projects/<int:pk>/history/", views.project_history_page, name="project-history"),
    path("tables/<int:pk>/approve/", views.table_approve, name="goal-table-approve"),
]
