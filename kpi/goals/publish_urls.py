"""URLs of the goal-table publish pages (included by kpi.goals.urls, namespace goals)."""
from django.urls import path

from . import publish_views as views

urlpatterns: list = [
    path("units/<int:unit_id>/years/<year:year>/rollover/", views.rollover, name="rollover"),
    path("units/<int:unit_id>/years/<year:year>/publish/", views.publish, name="publish"),
    path("units/<int:unit_id>/years/<year:year>/publish/disclosure.txt", views.publish_text, name="publish-text"),
    path("units/<int:unit_id>/years/<year:year>/publish/disclosure.xlsx", views.publish_xlsx, name="publish-xlsx"),
]
