from django.urls import path

from . import views

app_name = "yearclose"
urlpatterns = [
    path("units/<int:unit_id>/years/<year:year>/", views.unit_year, name="unit-year"),
]
