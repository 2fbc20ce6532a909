"""Import a unit's actuals (or budget execution) from a CSV or Excel file.

python manage.py import_actuals FILE --unit UNIT --year Y [--approve] [--execution]
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kpi.importers.actuals import (
    ACTUALS_COLUMNS,
    DEVIATION_CATEGORIES,
    EXECUTION_COLUMNS,
    LIKELIHOODS,
    ActualsImportError,
    actuals_import,
    unit_lookup,
)


class Command(BaseCommand):
    help = (
        "从 CSV（UTF-8 或 GB18030）或 Excel（.xlsx，第一个工作表）批量导入实际完成值，表头："
        + ",".join(ACTUALS_COLUMNS)
        + "（前四列必需，其余可省略；其他列不读取）。每行按填报页的规则检查：进度偏离目标时须填偏差原因类别（"
        + "/".join(DEVIATION_CATEGORIES) + "）和偏差原因，完成目标可能性填 " + "/".join(LIKELIHOODS)
        + "，是否需要整改填 是/否（是则须填整改措施）；整行留空的跳过。"
        + "加 --execution 导入预算执行（万元），表头：" + ",".join(EXECUTION_COLUMNS[:4])
        + "，可加按资金来源的列 " + ",".join(EXECUTION_COLUMNS[4:])
        + "（各来源之和须分别等于全年预算数、执行数）。任一行有误则整个文件不导入，并逐行列出错误（行号和列名）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 或 .xlsx 文件")
        parser.add_argument("--unit", required=True, help="预算单位：单位编码或单位名称")
        parser.add_argument("--year", required=True, type=int, help="年度；截至日期必须在该年度内")
        parser.add_argument("--approve", action="store_true",
                            help="导入后提交并审核通过涉及的填报，使其计入正式得分（默认保留为草稿）")
        parser.add_argument("--execution", action="store_true",
                            help="导入预算执行（执行数、全年预算数，可按资金来源）而非实际完成值")

    def handle(self, *args, file, unit, year, approve, execution, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        found = unit_lookup(text=unit)
        if found is None:
            raise CommandError(f"找不到预算单位“{unit}”（按单位编码或单位名称查找）。")
        try:
            result = actuals_import(unit=found, year=year, rows_source=path.read_bytes(), filename=path.name,
                                    execution=execution, approve=approve, user=None)
        except ActualsImportError as error:
            raise CommandError(
                f"导入失败，未写入任何数据（{len(error.errors)} 处错误）：\n" + "\n".join(error.errors)
            ) from error
        self.stdout.write(result.summary)
        for note in result.notes:
            self.stdout.write(note)
