"""Queue a bulk rescore: python manage.py rescore [--unit CODE] [--year Y] [--wait].

With --diff nothing is queued or written: it prints, as JSON, what a rescore of those tables would change
against their stored scores (under the policy each is scored under now):
{"scores_changed": int, "totals_changed": int, "grades_changed": int,
 "changes": [{"table": str, "old_total": str, "new_total": str, "old_grade": str, "new_grade": str}]}
— one change per table whose latest total or grade moves, the largest first.
"""
import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from budgets.models import Unit
from kpi.models import GoalTable, RescoreJob
from kpi.rescoring.services import rescore_job_create, tables_rescore_diff


class Command(BaseCommand):
    help = "重新计算得分（按单位、年度或全部），由 Celery 任务分批执行；--diff 只输出将会变化的得分（JSON），不写入。"

    def add_arguments(self, parser):
        parser.add_argument("--unit", help="单位编码或名称")
        parser.add_argument("--year", type=int)
        parser.add_argument("--wait", action="store_true", help="等待任务完成并显示进度")
        parser.add_argument("--diff", action="store_true", help="不重新计算，只以 JSON 输出重新计算将改变的得分、总分和等级")

    def handle(self, *args, **options):
        unit = None
        if options["unit"]:
            unit = Unit.objects.filter(code=options["unit"]).first() or Unit.objects.filter(name=options["unit"]).first()
            if unit is None:
                raise CommandError(f"找不到预算单位 “{options['unit']}”。")
        if options["diff"]:
            if options["wait"]:
                raise CommandError("--diff 不提交评分任务，不能与 --wait 同用。")
            tables = GoalTable.objects.all()
            if unit is not None:
                tables = tables.filter(unit=unit)
            if options["year"]:
                tables = tables.filter(year=options["year"])
            diff = tables_rescore_diff(table_ids=tables.values_list("pk", flat=True))
            self.stdout.write(json.dumps(diff.as_json(), ensure_ascii=False, indent=2))
            return
        with transaction.atomic():
            job = rescore_job_create(unit=unit, year=options["year"])
        self.stdout.write(f"已提交评分任务 #{job.pk}")
        while options["wait"]:
            job.refresh_from_db()
            self.stdout.write(f"  {job.get_status_display()} {job.done_tables}/{job.total_tables}")
            if job.status in (RescoreJob.Status.DONE, RescoreJob.Status.FAILED):
                break
            time.sleep(1)
