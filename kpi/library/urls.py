"""URLs of the 指标库 pages."""
app_name = "library"
urlpatterns: list = []
