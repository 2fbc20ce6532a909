"""URLs of the goal-table workflow pages (included by kpi.goals.urls, namespace goals)."""
urlpatterns: list = []
