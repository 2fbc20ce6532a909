"""Score one indicator by hand: python manage.py score_indicator --rule R --target T --actual A --weight W."""
import json
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from kpi import scoring
from kpi.models import ScoringPolicy
from kpi.targets import parse_target

TRUE_WORDS = {"是", "达成", "已达成", "完成", "yes", "true", "y", "1"}
FALSE_WORDS = {"否", "未达成", "未完成", "no", "false", "n", "0"}


def parse_decimal(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "").rstrip("%％"))
    except InvalidOperation:
        raise CommandError(f"{field} “{text}” 不是有效的数字。") from None
    if not value.is_finite():
        raise CommandError(f"{field} “{text}” 不是有效的数字。")
    return value


def parse_actual(text: str | None, target_kind: str):
    """A number in the target's unit, or 是/否 (达成/未达成) for deadlines and direct rules."""
    if text is None:
        return None
    word = text.strip().lower()
    if target_kind == "deadline" or word in TRUE_WORDS - {"1"} or word in FALSE_WORDS - {"0"}:
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CommandError(f"实际完成值 “{text}” 应为 是/否（达成/未达成）。")
    return parse_decimal(text, "实际完成值")


def decimal_text(value):
    return None if value is None else str(value)


class Command(BaseCommand):
    help = "按评分规则计算单个指标的得分，并以 JSON 输出（用于人工核对）。"

    def add_arguments(self, parser):
        parser.add_argument("--rule", required=True, help="指标赋分规则：" + " / ".join(r.value for r in scoring.Rule))
        parser.add_argument("--target", required=True, help="指标值，如 “>=95%”")
        parser.add_argument("--actual", help="实际完成值（与指标值同一计量单位），或 是/否")
        parser.add_argument("--weight", required=True, help="分值权重")
        parser.add_argument("--grade", help="评判等级（按评判等级赋分时）")
        parser.add_argument("--points", help="评判得分（按评判等级赋分时）")
        parser.add_argument("--policy", help="评分政策名称（默认使用内置默认政策）")

    def handle(self, *args, **options):
        target = parse_target(options["target"])
        policy = scoring.DEFAULT_POLICY
        if options["policy"]:
            row = ScoringPolicy.objects.filter(name=options["policy"]).first()
            if row is None:
                raise CommandError(f"找不到评分政策 “{options['policy']}”。")
            policy = row.as_policy()
        try:
            result = scoring.score_indicator(
                rule=options["rule"],
                target=target,
                actual=parse_actual(options["actual"], target.kind.value),
                weight=parse_decimal(options["weight"], "分值权重"),
                policy=policy,
                grade=options["grade"],
                points=parse_decimal(options["points"], "评判得分") if options["points"] is not None else None,
            )
        except scoring.ScoringError as error:
            raise CommandError(str(error)) from error
        payload = {
            "rule": str(options["rule"]),
            "target": {
                "raw": target.raw,
                "kind": target.kind.value,
                "value": decimal_text(target.value),
                "upper": decimal_text(target.upper),
                "unit": target.unit,
                "flags": list(target.flags),
            },
            "actual": options["actual"],
            "weight": options["weight"],
            "points": decimal_text(result.points),
            "ratio": decimal_text(result.ratio),
            "explanation": result.explanation,
            "flags": list(result.flags),
            "policy_version": policy.version,
        }
        self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
