"""The JSON of the API, both ways. Output: decimals as strings (money as published with two places at
least, points with two, quantities as written, rates with four), dates and times ISO 8601, people by name.
Input: the shape of what is sent (types); the rules of an entered value are the report page's own forms."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets.models import PROJECT_SOURCES
from kpi.formatting import money_text, person_name, plain_decimal

_CENT = Decimal("0.01")
_BASIS = Decimal("0.0001")
DECIMAL = {"type": "string", "format": "decimal", "nullable": True}


# --- output fields ----------------------------------------------------------------------------------

class _Shown(serializers.Field):
    """A read-only value shown as text (None stays null: DRF never calls to_representation with it)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)


@extend_schema_field({**DECIMAL, "example": "438.768", "description": "万元"})
class Money(_Shown):
    def to_representation(self, value):
        return money_text(value)


@extend_schema_field({**DECIMAL, "example": "13.50"})
class Points(_Shown):
    def to_representation(self, value):
        return str(Decimal(value).quantize(_CENT, ROUND_HALF_UP))


@extend_schema_field({**DECIMAL, "example": "3.1"})
class Quantity(_Shown):
    def to_representation(self, value):
        return plain_decimal(value)


@extend_schema_field({**DECIMAL, "example": "0.8250", "description": "比例（0.8250 即 82.50%）"})
class Rate(_Shown):
    def to_representation(self, value):
        return str(Decimal(value).quantize(_BASIS, ROUND_HALF_UP))


@extend_schema_field({"type": "string", "nullable": True, "example": "王芳", "description": "姓名（姓在前）"})
class Person(_Shown):
    def to_representation(self, value):
        return person_name(value)


# --- units, tables, indicators, scores --------------------------------------------------------------

class UnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="单位编码")
    name = serializers.CharField(help_text="单位名称")
    parent = serializers.IntegerField(source="parent_id", allow_null=True, help_text="主管部门（上级单位）的 id")


class UnitBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class ProjectBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="项目名称")
    code = serializers.CharField(help_text="项目编码")
    lead = Person(allow_null=True, help_text="项目负责人")


class TableScoreSerializer(serializers.Serializer):
    """A goal table's total as of a date (总分)."""

    as_of = serializers.DateField()
    total = Points()
    grade = serializers.CharField(help_text="优 / 良 / 中 / 差")
    indicator_points = Points()
    execution_rate = Rate(allow_null=True)
    execution_points = Points(allow_null=True)
    budget = Money(allow_null=True, help_text="全年预算数（万元）")
    executed = Money(allow_null=True, help_text="执行数（万元）")
    missing = serializers.IntegerField(help_text="缺少实际完成值的指标数")
    policy_version = serializers.CharField()
    computed_at = serializers.DateTimeField()


class ScoreSerializer(serializers.Serializer):
    """An indicator's score as of a date (得分)."""

    as_of = serializers.DateField()
    points = Points()
    ratio = Rate(allow_null=True)
    explanation = serializers.CharField(help_text="计算说明")
    flags = serializers.ListField(child=serializers.CharField())
    policy_version = serializers.CharField()


class ActualSerializer(serializers.Serializer):
    """实际完成值 — one recorded actual (a correction is a new one naming what it replaces)."""

    id = serializers.IntegerField()
    indicator = serializers.IntegerField(source="indicator_id")
    report = serializers.IntegerField(source="report_id")
    as_of = serializers.DateField()
    value = Quantity(allow_null=True, help_text="实际完成值（指标的计量单位）")
    met = serializers.BooleanField(allow_null=True, help_text="是否达成（时限、直接赋分）")
    grade = serializers.CharField(help_text="评判等级（按评判等级赋分）")
    points = Points(allow_null=True, help_text="评判得分")
    forecast = Quantity(allow_null=True, help_text="全年预计完成值")
    likelihood = serializers.CharField(help_text="完成目标可能性")
    deviation_category = serializers.CharField(help_text="偏差原因类别")
    deviation_reason = serializers.CharField()
    needs_rectification = serializers.BooleanField(allow_null=True)
    rectification_measures = serializers.CharField()
    replaces = serializers.IntegerField(source="replaces_id", allow_null=True, help_text="更正的记录")
    recorded_by = Person(allow_null=True)
    recorded_at = serializers.DateTimeField()


class IndicatorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField(help_text="序号")
    level1 = serializers.CharField(help_text="一级指标")
    level2 = serializers.CharField(help_text="二级指标")
    name = serializers.CharField(help_text="三级指标")
    target = serializers.CharField(source="target_raw", help_text="指标值（如公开的文字）")
    kind = serializers.CharField(source="target_kind",
                                 help_text="positive / reverse / equals / range / deadline / qualitative / unknown")
    value = Quantity(source="target_value", allow_null=True, help_text="目标值")
    upper = Quantity(source="target_upper", allow_null=True, help_text="目标上限（区间）")
    unit = serializers.CharField(help_text="计量单位")
    weight = Points(help_text="分值权重")
    rule = serializers.CharField(help_text="指标赋分规则")
    accumulation = serializers.CharField(help_text="cumulative（累计值）/ level（水平值）")
    not_applicable = serializers.BooleanField()
    not_applicable_reason = serializers.CharField()
    entry_mode = serializers.CharField(help_text="number（填数值）/ met（达成与否）/ grade（等级和得分）")
    light = serializers.CharField(help_text="监控灯：red / yellow / blue / green / none")
    official_score = ScoreSerializer(source="latest_score", allow_null=True, help_text="最新正式得分（已审核）")
    provisional_score = ScoreSerializer(source="pending_score", allow_null=True,
                                        help_text="最新暂算得分（含待审核的填报），没有则为 null")
    actual = ActualSerializer(source="latest_actual", allow_null=True, help_text="最新计入的实际完成值")


class FundsSourceSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="资金来源字段名：fiscal、carryover、other（项目）或 "
                                             "fiscal_superior、fiscal_local、other（部门整体）")
    label = serializers.CharField()
    initial = Money(allow_null=True, help_text="年初预算数")
    budget = Money(allow_null=True, help_text="全年预算数（调整后；未登记为 null）")
    executed = Money(allow_null=True, help_text="最新执行数（未按来源登记为 null）")


class ExecutionSerializer(serializers.Serializer):
    """执行数 — cumulative spending as of a date."""

    id = serializers.IntegerField()
    as_of = serializers.DateField()
    executed = Money()
    # The same figure per source, when recorded (a project's three, or the unit's own three).
    fiscal = Money(allow_null=True, help_text="其中：本年财政拨款")
    carryover = Money(allow_null=True, help_text="其中：上年结转")
    fiscal_superior = Money(allow_null=True, help_text="其中：财政资金（上级安排）")
    fiscal_local = Money(allow_null=True, help_text="其中：财政资金（本级安排）")
    other = Money(allow_null=True, help_text="其中：其他资金")
    recorded_by = Person(allow_null=True)
    recorded_at = serializers.DateTimeField()


class FundsSerializer(serializers.Serializer):
    initial = Money(help_text="年初预算数（万元）")
    budget = Money(help_text="全年预算数（调整后，万元）")
    adjustment_reason = serializers.CharField()
    sources = FundsSourceSerializer(many=True)
    execution = ExecutionSerializer(allow_null=True, help_text="最新执行数")
    execution_rate = Rate(allow_null=True, help_text="预算执行率（预算为 0 时为 null）")


class ScoresSerializer(serializers.Serializer):
    official = TableScoreSerializer(allow_null=True, help_text="最新正式总分（只用已审核的填报）")
    provisional = TableScoreSerializer(allow_null=True, help_text="最新暂算总分（含待审核的填报）")


class TableSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scope = serializers.CharField(help_text="project（项目支出）/ unit（部门整体）")
    year = serializers.IntegerField()
    status = serializers.CharField(help_text="draft（草稿）/ approved（已批复）/ closed（已关闭）")
    unit = UnitBriefSerializer()
    project = ProjectBriefSerializer(allow_null=True)
    stale = serializers.BooleanField(source="is_stale", help_text="评分更新中：有尚未计入得分的修改")
    total = Points(source="official_total.total", allow_null=True, help_text="最新正式总分")
    grade = serializers.CharField(source="official_total.grade", allow_null=True, help_text="最新正式等级")
    light = serializers.CharField(source="api_light", help_text="监控灯（最差的一项）")


class TableDetailSerializer(TableSummarySerializer):
    overall_goal = serializers.CharField(help_text="总体目标")
    year_closed = serializers.BooleanField(source="api_year_closed", help_text="该年度已关账（只读）")
    scored_at = serializers.DateTimeField(allow_null=True)
    changed_at = serializers.DateTimeField()
    budget_light = serializers.CharField(source="api_budget_light", help_text="预算执行的监控灯")
    funds = FundsSerializer(source="api_funds")
    scores = ScoresSerializer(source="api_scores")
    indicators = IndicatorSerializer(many=True, source="api_indicators")


class ReportSerializer(serializers.Serializer):
    """填报 — the actuals of a goal table as of a date, reviewed as a whole."""

    id = serializers.IntegerField()
    table = serializers.IntegerField(source="table_id")
    as_of = serializers.DateField()
    status = serializers.CharField(help_text="draft（草稿）/ submitted（已提交）/ approved（已审核）/ returned（已退回）")
    replaces = serializers.IntegerField(source="replaces_id", allow_null=True, help_text="更正的（已审核）填报")
    created_by = Person(allow_null=True)
    created_at = serializers.DateTimeField()
    submitted_by = Person(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    reviewed_by = Person(allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_note = serializers.CharField(help_text="退回原因")
    review_indicators = serializers.ListField(child=serializers.IntegerField(), help_text="退回涉及的指标")
    entries = ActualSerializer(many=True, source="api_entries", help_text="本填报中每个指标最新的实际完成值")


class ReportSavedSerializer(ReportSerializer):
    saved = serializers.IntegerField(help_text="本次记录的实际完成值条数（与现值相同的不再记录）")
    notes = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField()), source="api_notes",
        help_text="数字如何读取，按指标 id 和字段：如 {\"12\": {\"value\": \"“3.1万”已按 31000人 读取。\"}}",
    )


class ExecutionSavedSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    table = serializers.IntegerField(allow_null=True, help_text="项目的绩效目标表（没有则为 null）")
    as_of = serializers.DateField()
    recorded = serializers.BooleanField(help_text="本次记录了新的执行数（与已记录的相同则不再记录）")
    adjusted = serializers.BooleanField(help_text="本次调整了全年预算数")
    detail = serializers.CharField()
    execution = ExecutionSerializer(allow_null=True, help_text="该日期的执行数")
    funds = FundsSerializer(help_text="现在的资金和最新执行数")


# --- the self-evaluation (documentation of kpi.selfeval.data.UnitEvaluation.as_json) -------------------

class SelfEvalExecutionSerializer(serializers.Serializer):
    budget = Money(allow_null=True, help_text="全年预算数")
    executed = Money(allow_null=True, help_text="全年执行数")
    rate = Rate(allow_null=True, help_text="执行率")
    score = Points(allow_null=True, help_text="执行率得分")


class SelfEvalIndicatorSerializer(serializers.Serializer):
    level1 = serializers.CharField()
    level2 = serializers.CharField()
    name = serializers.CharField()
    target = serializers.CharField(help_text="年度指标值（如公开的文字）")
    actual = serializers.CharField(allow_null=True, help_text="实际完成值；缺失为 null")
    weight = Points()
    score = Points(allow_null=True)
    explanation = serializers.CharField(help_text="计算说明")


class SelfEvalTableSerializer(serializers.Serializer):
    project = serializers.CharField(allow_null=True, help_text="项目名称；部门整体表为 null")
    execution = SelfEvalExecutionSerializer()
    indicators = SelfEvalIndicatorSerializer(many=True)
    total = Points(allow_null=True)
    grade = serializers.CharField(allow_null=True)
    missing = serializers.ListField(child=serializers.CharField(), help_text="缺失项")


class SelfEvaluationSerializer(serializers.Serializer):
    unit = serializers.CharField()
    year = serializers.IntegerField()
    projects = SelfEvalTableSerializer(many=True)
    unit_table = SelfEvalTableSerializer(allow_null=True, help_text="部门整体绩效自评表；没有则为 null")


# --- input -----------------------------------------------------------------------------------------

@extend_schema_field({"type": "string", "nullable": True, "example": "3.1",
                      "description": "数字，以字符串表示（也接受 JSON 数字）；可带计量单位或“万”，按指标的计量单位读取"})
class NumberText(serializers.Field):
    """A number as text, read later by the page's own fields (kpi.entries.read_quantity, DecimalField)."""

    default_error_messages = {"invalid": "请以字符串填写数字，如 \"3.1\"。"}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        return data if isinstance(data, str) else repr(data)

    def to_representation(self, value):
        return value


def _text(**kwargs):
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, default="", max_length=2000,
                                 **kwargs)


class EntryInSerializer(serializers.Serializer):
    """One indicator's entry (the shape of the report page's row)."""

    indicator = serializers.IntegerField(help_text="指标 id")
    base = serializers.IntegerField(
        required=False, allow_null=True,
        help_text="您看到的现值（实际完成值 id，没有则为 null）。给出时，若该指标在此之后已被他人保存，返回 409，"
                  "不覆盖他人的修改；省略时以当前值为准。",
    )
    value = NumberText(help_text="实际完成值（entry_mode 为 number）")
    met = serializers.BooleanField(required=False, allow_null=True, help_text="是否达成（entry_mode 为 met）")
    grade = _text(help_text="评判等级（entry_mode 为 grade）：达成年度指标 / 部分达成年度指标并具有一定效果 / "
                            "未达成年度指标且效果较差")
    points = NumberText(help_text="评判得分（entry_mode 为 grade，须在等级的分数段内）")
    forecast = NumberText(help_text="全年预计完成值")
    likelihood = _text(help_text="完成目标可能性：确定能 / 有可能 / 完全不可能")
    deviation_category = _text(help_text="偏差原因类别：经费保障 / 制度保障 / 人员保障 / 硬件条件 / 其他")
    deviation_reason = _text()
    needs_rectification = serializers.BooleanField(required=False, allow_null=True, help_text="是否需要整改")
    rectification_measures = _text()


class ReportInSerializer(serializers.Serializer):
    as_of = serializers.DateField(help_text="截至日期（该表年度内），如 2026-07-31")
    entries = EntryInSerializer(many=True, allow_empty=False, max_length=1000)


class ReturnInSerializer(serializers.Serializer):
    # Required, but checked by the page's own form (ReturnForm), with its message.
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000,
                                   help_text="退回原因（必填）")
    indicators = serializers.ListField(child=serializers.IntegerField(), required=False, default=list,
                                       help_text="退回涉及的指标 id（可选）")


def execution_in_serializer():
    """The execution body: the project's sources as executed_<source> and budget_<source>."""
    fields = {
        "as_of": serializers.DateField(help_text="截至日期（项目年度内）"),
        "executed": NumberText(help_text="累计执行数（万元）；留空为各来源之和"),
        "budget": NumberText(help_text="全年预算数（调整后，万元；单位管理员）；留空不调整"),
        "reason": _text(help_text="预算调整原因（调整全年预算数时必填）"),
    }
    for field, label in PROJECT_SOURCES:
        fields[f"executed_{field}"] = NumberText(help_text=f"其中：{label}的执行数（万元）")
    for field, label in PROJECT_SOURCES:
        fields[f"budget_{field}"] = NumberText(help_text=f"其中：{label}的全年预算数（万元）")
    return type("ExecutionInSerializer", (serializers.Serializer,), fields)


ExecutionInSerializer = execution_in_serializer()
