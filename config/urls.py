from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from kpi import views as kpi_views
from kpi.importers import views as import_views

admin.site.site_header = "绩效 Jixiao 管理后台"
admin.site.site_title = "Jixiao"

urlpatterns = [
    path("", kpi_views.home, name="home"),
    path("projects/<int:pk>/", kpi_views.project_detail, name="project-detail"),
    path("imports/", import_views.upload, name="import-upload"),
    path("imports/template.xlsx", import_views.template, name="import-template"),
    path("imports/<int:pk>/", import_views.detail, name="import-detail"),
    path("imports/<int:pk>/confirm/", import_views.confirm, name="import-confirm"),
    path("tables/<int:pk>/export.xlsx", import_views.export, name="table-export"),
    path("imports/<int:pk>/progress/", import_views.progress, name="import-progress"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
