"""URLs of the goal-table editor pages (included by kpi.goals.urls, namespace goals)."""
urlpatterns: list = []
