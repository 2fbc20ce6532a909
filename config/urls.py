from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.auth import LoginView
from config.health import healthz
from kpi.scorecards import views as scorecard_views

admin.site.site_header = "绩效 Jixiao 管理后台"
admin.site.site_title = "Jixiao"


def superusers_only(request) -> bool:
    """The admin site is for superusers: staff status alone opens nothing (everyone else uses the app's pages)."""
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = superusers_only

# One URL namespace per feature (kpi/<feature>/urls.py); each feature keeps the paths users know.
urlpatterns = [
    path("", scorecard_views.home, name="home"),
    path("", include("kpi.scorecards.urls")),
    path("", include("kpi.reports.urls")),
    path("", include("kpi.goals.urls")),
    path("", include("kpi.yearclose.urls")),
    path("", include("kpi.history.urls")),
    path("", include("kpi.monitoring.urls")),
    path("", include("kpi.selfeval.urls")),
    path("", include("kpi.importers.urls")),
    path("", include("kpi.reviews.urls")),
    path("", include("kpi.reminders.urls")),
    path("", include("kpi.policies.urls")),
    path("", include("kpi.library.urls")),
    path("api/v1/", include("kpi.api.urls")),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
