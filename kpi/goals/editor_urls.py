"""URLs of the goal-table editor pages (included by kpi.goals.urls, namespace goals)."""
from django.urls import path

from . import editor_views

urlpatterns: list = [
    path("units/tables/<int:pk>/edit/", editor_views.table_edit, name="edit"),
    path("units/tables/<int:pk>/changes/", editor_views.table_changes, name="table-history"),
    path("goals/parse-target/", editor_views.parse_target_view, name="parse-target"),
]
