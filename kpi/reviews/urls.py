from django.urls import path

from . import views

app_name = "reviews"
urlpatterns = [
    path("reviews/", views.queue, name="queue"),
]
