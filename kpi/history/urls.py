from django.urls import path

from . import views

app_name = "history"
urlpatterns = [
    path("units/projects/<int:pk>/history/", views.project_history_page, name="project"),
]
