"""Queue a bulk rescore: python manage.py rescore [--unit CODE] [--year Y] [--wait]."""
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from budgets.models import Unit
from kpi.models import RescoreJob
from kpi.rescoring.services import rescore_job_create


class Command(BaseCommand):
    help = "重新计算得分（按单位、年度或全部），由 Celery 任务分批执行。"

    def add_arguments(self, parser):
        parser.add_argument("--unit", help="单位编码或名称")
        parser.add_argument("--year", type=int)
        parser.add_argument("--wait", action="store_true", help="等待任务完成并显示进度")

    def handle(self, *args, **options):
        unit = None
        if options["unit"]:
            unit = Unit.objects.filter(code=options["unit"]).first() or Unit.objects.filter(name=options["unit"]).first()
            if unit is None:
                raise CommandError(f"找不到预算单位 “{options['unit']}”。")
        with transaction.atomic():
            job = rescore_job_create(unit=unit, year=options["year"])
        self.stdout.write(f"已提交评分任务 #{job.pk}")
        while options["wait"]:
            job.refresh_from_db()
            self.stdout.write(f"  {job.get_status_display()} {job.done_tables}/{job.total_tables}")
            if job.status in (RescoreJob.Status.DONE, RescoreJob.Status.FAILED):
                break
            time.sleep(1)
