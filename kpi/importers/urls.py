from django.urls import path

from . import views

app_name = "importers"
urlpatterns = [
    path("imports/", views.upload, name="upload"),
    path("imports/template.xlsx", views.template, name="template"),
    path("imports/<int:pk>/", views.detail, name="detail"),
    path("imports/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("imports/<int:pk>/progress/", views.progress, name="progress"),
    path("tables/<int:pk>/export.xlsx", views.export, name="export"),
    path("actuals/import/", views.actuals_upload, name="actuals"),
    path("actuals/import/template.csv", views.actuals_template, name="actuals-template"),
    path("actuals/import/filled-template/", views.actuals_filled_template, name="actuals-filled-template"),
    path("actuals/import/errors/<slug:token>.csv", views.actuals_errors, name="actuals-errors"),
]
