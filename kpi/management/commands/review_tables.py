"""review_tables — the 指标质量审核 of a unit's goal tables of a year (a fixed contract, used by scripts).

    python manage.py review_tables --unit UNIT --year Y [--json]

UNIT is the unit's code or name. With --json it prints
``[{"table", "indicator", "line", "severity", "code", "message"}, …]`` (UTF-8, not escaped); without, a
readable list per table. Findings are not an error: the exit code is 0 whenever the review ran.
"""
import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from budgets.models import Unit
from kpi.goals.review import MUST, SEVERITY_LABELS
from kpi.goals.review_selectors import unit_findings
from kpi.models import GoalTable


class Command(BaseCommand):
    help = "审核预算单位某年度绩效目标表的指标质量，列出必须修改和建议修改的问题。"

    def add_arguments(self, parser):
        parser.add_argument("--unit", required=True, help="预算单位编码或名称")
        parser.add_argument("--year", required=True, type=int, help="年度，如 2026")
        parser.add_argument("--json", action="store_true", dest="as_json", help="以 JSON 输出")

    def handle(self, *args, unit, year, as_json, **options):
        found = Unit.objects.filter(Q(code=unit) | Q(name=unit)).first()
        if found is None:
            raise CommandError(f"找不到预算单位“{unit}”：请填写单位编码或单位名称。")
        tables = list(
            GoalTable.objects.filter(unit=found, year=year).order_by("-scope", "project__name", "pk")  # as unit_findings: 部门整体 first
            .values_list("project__name", flat=True)
        )
        if not tables:
            raise CommandError(f"预算单位“{found.name}”没有 {year} 年度的绩效目标表。")
        findings = unit_findings(found.pk, year)
        if as_json:
            self.stdout.write(json.dumps([f.as_json() for f in findings], ensure_ascii=False, indent=2))
            return
        self.stdout.write(self._readable(found, year, [name or found.name for name in tables], findings))

    @staticmethod
    def _readable(unit: Unit, year: int, names: list[str], findings) -> str:
        must = sum(1 for f in findings if f.severity == MUST)
        lines = [f"{unit.name} {year} 年度绩效目标表指标质量审核：目标表 {len(names)} 张，"
                 f"必须修改 {must} 项，建议修改 {len(findings) - must} 项。"]
        by_table: dict[str, list] = {}
        for finding in findings:
            by_table.setdefault(finding.table, []).append(finding)
        for name in dict.fromkeys(names):
            lines.append("")
            label = f"{name}（部门整体）" if name == unit.name else name
            own = by_table.get(name, [])
            if not own:
                lines.append(f"【{label}】未发现问题。")
                continue
            lines.append(f"【{label}】")
            lines.extend(f"  [{SEVERITY_LABELS[f.severity]}] {f.message}" for f in own)
        return "\n".join(lines)
