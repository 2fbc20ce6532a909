import os

from celery import Celery
from celery.signals import task_failure, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("jixiao")
# Every Celery setting lives in Django settings with a CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each feature package of kpi keeps its own tasks module.
app.autodiscover_tasks(["kpi.rescoring", "kpi.importers", "kpi.reminders", "kpi.selfeval", "kpi.monitoring"])

# One structured log line per task run (config/logging.py), and the traceback of every failure.
from config import logging as jixiao_logging  # noqa: E402  (after the app: the signals need it set up)

task_prerun.connect(jixiao_logging.task_started, weak=False)
task_postrun.connect(jixiao_logging.task_finished, weak=False)
task_failure.connect(jixiao_logging.task_failed, weak=False)
