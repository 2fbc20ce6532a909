from django.urls import path

from . import views

app_name = "policies"
urlpatterns = [
    path("policies/", views.policy_list, name="list"),
    path("policies/new/", views.policy_create, name="create"),
    path("policies/<int:pk>/", views.policy_edit, name="edit"),
    path("policies/<int:pk>/copy/", views.policy_copy, name="copy"),
]
