"""python manage.py library_build [--json] — build the 指标库 from every goal table (idempotent)."""
import json

from django.core.management.base import BaseCommand

from kpi.library.services import library_build

LABELS = {"tables": ("目标表", "张"), "entries": ("指标库条目", "个"), "merged": ("已归并的同义条目", "个"),
          "uses": ("使用记录", "条"), "recommended": ("推荐条目", "个")}


class Command(BaseCommand):
    help = "用数据库中的全部绩效目标表建立（或更新）指标库；可重复运行，第二次不会改动任何内容。"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="以 JSON 输出统计")

    def handle(self, *args, **options):
        counts = library_build()
        if options["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
            return
        self.stdout.write("指标库已更新：" + "，".join(f"{LABELS[k][0]} {v} {LABELS[k][1]}" for k, v in counts.items()) + "。")
