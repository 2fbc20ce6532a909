from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kpi.api"
    label = "api"
    verbose_name = "接口（API）"

    def ready(self):
        # The OpenAPI description of the bearer tokens (drf-spectacular finds extensions once imported).
        from . import schema  # noqa: F401
