from django.urls import path

from . import views

app_name = "reminders"
urlpatterns = [
    path("reminders/overdue/", views.overdue, name="overdue"),
]
