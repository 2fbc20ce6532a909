from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="scorecard-home"),
    path("units/<int:unit_pk>/<int:year>/", views.unit_scorecard, name="scorecard-unit"),
]
