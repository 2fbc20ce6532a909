from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "预算单位与项目资金"

    def ready(self):
        from django.urls import register_converter

        from .years import YearConverter

        register_converter(YearConverter, "year")  # <year:year> in every urls.py (budgets.years)
