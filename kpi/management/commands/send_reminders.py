"""Send the monthly reminders now: python manage.py send_reminders [--date YYYY-MM-DD]."""
import argparse
import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from kpi.reminders.services import reminders_send


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD，收到 “{text}”。") from None


class Command(BaseCommand):
    help = "发送填报提醒：上月绩效运行监控数据逾期未填报的项目负责人和单位管理员（同一月份不重复发送）。"

    def add_arguments(self, parser):
        parser.add_argument("--date", type=iso_date, help="按这一天发送（默认今天）；提醒的是其上一个月")

    def handle(self, *args, **options):
        result = reminders_send(today=options["date"] or timezone.localdate())
        self.stdout.write(
            f"监控期末 {result['period']:%Y-%m-%d}：逾期项目 {result['overdue_projects']} 个；"
            f"发送负责人提醒 {result['sent_lead']} 封、管理员汇总 {result['sent_digest']} 封；"
            f"此前已发送 {result['already_sent']} 封；无邮箱跳过 {result['skipped_no_email']} 人；"
            f"无负责人账号的项目 {result['projects_without_lead']} 个。"
        )
