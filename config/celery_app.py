import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("jixiao")
# Every Celery setting lives in Django settings with a CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each feature package of kpi keeps its own tasks module.
app.autodiscover_tasks(["kpi.rescoring", "kpi.importers", "kpi.reminders", "kpi.selfeval"])
