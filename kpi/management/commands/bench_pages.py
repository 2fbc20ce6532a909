"""Benchmark the pages at the size of a province in a throwaway database; prints one JSON document.

python manage.py bench_pages --projects 1000 --units 200 [--concurrency 20] [--repeat 20] [--seconds 10]

Progress goes to stderr, the document to stdout (its keys: kpi/benchmarks/run.py). Exit 1 when a page,
the server, the worker or the import failed (the document still says what was measured).
"""
import json
import logging
import sys
import warnings

from django.core.management.base import BaseCommand, CommandError

from kpi.benchmarks.run import Options, bench_pages


class Command(BaseCommand):
    help = ("页面性能基准：在临时数据库中建一个省级规模的数据（财政局、主管部门、单位、项目、目标表、已审核的实际完成值），"
            "测量各页面（进程内）、gunicorn 并发、批量评分期间保存到得分可见的时间和批量导入速度，输出 JSON。")

    def add_arguments(self, parser):
        parser.add_argument("--projects", type=int, default=1000, help="大单位的项目数（其他单位各 5 个）")
        parser.add_argument("--units", type=int, default=200, help="财政局下的单位数（含主管部门）")
        parser.add_argument("--concurrency", type=int, default=20, help="并发用户数；0 不测并发")
        parser.add_argument("--repeat", type=int, default=20, help="每个页面计时的请求次数")
        parser.add_argument("--seconds", type=float, default=10.0, help="并发测量的时长（秒）")
        parser.add_argument("--page-seconds", type=float, default=60.0,
                            help="每个页面计时的最长时间（秒，至少 3 次请求）；0 不限")

    def handle(self, *args, **options):
        for name in ("projects", "units", "repeat"):
            if options[name] < 1:
                raise CommandError(f"--{name} 至少为 1。")
        if options["concurrency"] < 0 or options["seconds"] <= 0:
            raise CommandError("--concurrency 不能为负数，--seconds 必须大于 0。")
        # Progress lines only: not a line per request, login and 404 of a static folder not collected here.
        for name in ("jixiao.request", "axes", "django.request"):
            logging.getLogger(name).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="No directory at")
        outcome = bench_pages(
            Options(projects=options["projects"], units=options["units"], concurrency=options["concurrency"],
                    repeat=options["repeat"], seconds=options["seconds"],
                    page_seconds=options["page_seconds"] or None),
            say=lambda message: self.stderr.write(message),
        )
        self.stdout.write(json.dumps(outcome.document, ensure_ascii=False, indent=2))
        if outcome.failures:
            for failure in outcome.failures:
                self.stderr.write(f"失败：{failure}")
            sys.exit(1)
