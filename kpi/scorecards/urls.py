from django.urls import path

from . import views

app_name = "scorecards"
urlpatterns = [
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("scorecards/", views.rollup, name="home"),
    path("scorecards/units/<int:unit_pk>/<year:year>/", views.unit_scorecard, name="unit"),
]
