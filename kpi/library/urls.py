"""URLs of the 指标库 pages."""
from django.urls import path

from . import views

app_name = "library"
urlpatterns = [
    path("library/", views.library_list, name="list"),
    path("library/search/", views.library_search, name="search"),
    path("library/<int:pk>/", views.library_detail, name="detail"),
    path("library/<int:pk>/edit/", views.library_edit, name="edit"),
    path("library/<int:pk>/recommend/", views.library_recommend, name="recommend"),
    path("library/<int:pk>/merge/", views.library_merge, name="merge"),
]
