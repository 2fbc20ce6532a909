"""selfeval_report — a unit's year-end 绩效自评 as JSON, Excel or PDF (a fixed contract, used by scripts).

    python manage.py selfeval_report --unit UNIT --year Y --format json|xlsx|pdf --out PATH

UNIT is the unit's code or name; `--out -` writes the JSON to standard output. Scores are the engine's
official ones (approved values only); stale tables are rescored first.
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from budgets.models import Unit
from kpi.models import GoalTable
from kpi.rescoring.services import goal_tables_rescore_stale
from kpi.selfeval.data import NoTables, unit_evaluation
from kpi.selfeval.services import FORMATS, unit_report_render


class Command(BaseCommand):
    help = "生成预算单位某年度的绩效自评表（json / xlsx / pdf）。"

    def add_arguments(self, parser):
        parser.add_argument("--unit", required=True, help="预算单位编码或名称")
        parser.add_argument("--year", required=True, type=int, help="年度，如 2026")
        parser.add_argument("--format", required=True, dest="fmt", help="json、xlsx 或 pdf")
        parser.add_argument("--out", required=True, help="输出文件路径；json 可用 - 输出到标准输出")

    def handle(self, *args, unit, year, fmt, out, **options):
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise CommandError(f"不支持的格式“{fmt}”：--format 只能是 json、xlsx 或 pdf。")
        if out == "-" and fmt != "json":
            raise CommandError(f"{fmt} 是二进制文件，不能输出到标准输出：请用 --out 指定文件路径。")
        found = Unit.objects.filter(Q(code=unit) | Q(name=unit)).select_related("parent").first()
        if found is None:
            raise CommandError(f"找不到预算单位“{unit}”：请填写单位编码或单位名称。")
        # Changes not yet scored (the worker behind, or not running) are scored now, as the page would wait for.
        goal_tables_rescore_stale(tables=GoalTable.objects.filter(unit=found, year=year))
        try:
            evaluation = unit_evaluation(unit=found, year=year)
        except NoTables as error:
            raise CommandError(str(error)) from error
        data = unit_report_render(evaluation=evaluation, fmt=fmt, generated_at=timezone.localtime())
        if out == "-":
            self.stdout.write(data.decode("utf-8"), ending="")
            return
        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(f"输出目录不存在：{path.parent}")
        path.write_bytes(data)
        missing = len(evaluation.missing)
        self.stderr.write(
            f"已生成 {path}：{found.name} {year} 年度，自评表 {len(evaluation.evaluations)} 张，缺失项 {missing} 项。"
        )
