"""Import published goal tables from a disclosure text (or the Excel template).

python manage.py import_disclosure PATH [--year Y] [--dry-run] [--json] [--prune]

Each table is imported on its own: one that cannot be is reported with its reason, the others still are.
Exit status 0 when at least one table is imported (or, with --dry-run, would be), 1 when none is.
"""
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kpi.importers.parsed import NotADisclosure
from kpi.importers.services import document_as_dict, import_file


class Command(BaseCommand):
    help = "导入部门预算公开文件（文本）或 Excel 模板中的绩效目标表；--dry-run 只预览不写入。"

    def add_arguments(self, parser):
        parser.add_argument("path", help="部门预算公开文本（.txt/.md）或绩效目标表 Excel 模板（.xlsx）")
        parser.add_argument("--year", type=int, help="年度（默认从文件中读取）")
        parser.add_argument("--dry-run", action="store_true", help="只预览，不写入任何数据")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出预览（与 --dry-run 一起使用）")
        parser.add_argument("--prune", action="store_true",
                            help="删除目标表中文件里没有的指标（已有实际完成值的指标不会删除）；默认保留并提示")

    def handle(self, *args, path, year, dry_run, json: bool, prune: bool, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"找不到文件：{path}")
        try:
            document, outcome = import_file(data=file.read_bytes(), filename=file.name, year=year, dry_run=dry_run,
                                            prune=prune)
        except NotADisclosure as error:
            raise CommandError(str(error)) from error
        if json:
            preview = document_as_dict(document, outcome)
            # What the import would skip or keep belongs to the preview too.
            preview["warnings"].extend(outcome.notes)
            self.stdout.write(_dumps(preview))
        else:
            self._report(document, outcome, dry_run=dry_run)
        if not outcome.imported:
            raise CommandError("没有任何绩效目标表可以导入。" if dry_run else "没有导入任何绩效目标表。", returncode=1)

    def _report(self, document, outcome, *, dry_run: bool) -> None:
        prefix = "（试运行，未写入）" if dry_run else ""
        self.stdout.write(f"{prefix}{outcome.unit} {outcome.year} 年：{len(outcome.tables)} 张绩效目标表")
        for table in outcome.tables:
            self.stdout.write(table.summary())
        if outcome.errors:
            self.stdout.write(f"错误 {len(outcome.errors)} 条：")
            for error in outcome.errors:
                self.stdout.write(f"  - {error}")
        warnings = document.warnings + [w for t in document.tables for w in t.warnings]
        if warnings:
            self.stdout.write(f"提示 {len(warnings)} 条：")
            for warning in warnings:
                self.stdout.write(f"  - {warning}")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
