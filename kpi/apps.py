from django.apps import AppConfig


class KpiConfig(AppConfig):
    name = "kpi"
    verbose_name = "绩效目标与评分"

    def ready(self):
        from .table_signatures import install

        install()
