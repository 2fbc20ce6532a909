"""URLs of the goal-table publish pages (included by kpi.goals.urls, namespace goals)."""
urlpatterns: list = []
