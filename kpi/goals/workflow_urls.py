"""URLs of the goal-table workflow pages (included by kpi.goals.urls, namespace goals)."""
from django.urls import path

from . import workflow_views as views

urlpatterns: list = [
    path("units/tables/<int:pk>/workflow/", views.table_workflow, name="workflow"),
    path("units/tables/<int:pk>/submit/", views.table_submit, name="submit"),
    path("units/tables/<int:pk>/pass/", views.table_pass, name="pass"),
    path("units/tables/<int:pk>/return/", views.table_return, name="return"),
    path("units/tables/<int:pk>/ratify/", views.table_ratify, name="ratify"),
    path("units/tables/<int:pk>/adjustments/", views.adjustment_propose, name="adjust"),
    path("units/adjustments/<int:pk>/<slug:action>/", views.adjustment_step, name="adjustment"),
    path("units/tables/awaiting/", views.table_queue, name="queue"),
]
