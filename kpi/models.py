"""Goal tables (绩效目标表), indicators, actuals and scores."""
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from budgets.models import Project, Unit

from . import scoring
from .lights import Light
from .targets import Kind

POINTS = {"max_digits": 7, "decimal_places": 2}
QUANTITY = {"max_digits": 20, "decimal_places": 4}


class ScoringPolicy(models.Model):
    """评分政策 — the region's choices left open by the rules (domain.md). Each edit bumps `version`."""

    class ReverseFormula(models.TextChoices):
        RATIO = "ratio", "比值法：分值 × 目标 / 实际"
        LINEAR_TO_DOUBLE = "linear_to_double", "线性递减：超出一倍得 0 分"

    name = models.CharField("名称", max_length=100, unique=True)
    year = models.PositiveSmallIntegerField("适用年度", null=True, blank=True, help_text="留空表示适用所有年度")
    region = models.CharField("适用地区", max_length=100, blank=True)
    reverse_formula = models.CharField(
        "反向指标计分公式", max_length=20, choices=ReverseFormula.choices, default=ReverseFormula.RATIO
    )
    satisfaction_floor = models.DecimalField(
        "满意度最低线", max_digits=6, decimal_places=2, null=True, blank=True, help_text="低于此值的满意度得 0 分；留空不设"
    )
    overachievement_flag = models.DecimalField(
        "超额完成提示比例", max_digits=5, decimal_places=2, default=Decimal("0.20"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    # The settings published self-evaluations show differ by region (domain.md §3); see kpi.scoring.Policy.
    execution_weight = models.DecimalField(
        "预算执行率分值", **POINTS, default=Decimal("10"), validators=[MinValueValidator(Decimal("0"))],
        help_text="指标分值合计为 100 减去此值（常见为 10 分，部分地区为 20 分）",
    )
    overachievement_deduction = models.DecimalField(
        "超额完成扣分", **POINTS, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))],
        help_text="按完成比例赋分的指标超出目标达到提示比例时扣除的分数（不低于 0 分）；0 表示只提示、不扣分",
    )
    execution_caps = models.JSONField(
        "执行率封顶", default=list, blank=True,
        help_text="[[执行率低于（%）, 总分最高], …]，例如 [[80, 89], [70, 79], [60, 69], [50, 59]]；留空不设",
    )
    whole_points = models.BooleanField("按整数计分", default=False, help_text="指标得分和执行率得分四舍五入为整数")
    reason_below_execution_rate = models.DecimalField(
        "执行率低于（%）须说明原因", max_digits=6, decimal_places=2, null=True, blank=True,
        help_text="预算执行率低于此值时须填写偏差原因；留空不设",
    )
    reason_over_target_percent = models.DecimalField(
        "实际超过目标（%）须说明原因", max_digits=7, decimal_places=2, null=True, blank=True,
        help_text="实际完成值超过目标的此百分比时（如 130 表示超过目标 30%）须填写原因；留空不设",
    )
    grade_excellent = models.DecimalField("“优”最低分", **POINTS, default=Decimal("90"))
    grade_good = models.DecimalField("“良”最低分", **POINTS, default=Decimal("80"))
    grade_pass = models.DecimalField("“中”最低分", **POINTS, default=Decimal("60"))
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "评分政策"
        constraints = [
            models.CheckConstraint(
                condition=Q(grade_excellent__gte=models.F("grade_good")) & Q(grade_good__gte=models.F("grade_pass"))
                & Q(grade_pass__gte=0),
                name="policy_grade_bands_ordered",
            ),
            models.CheckConstraint(condition=Q(overachievement_flag__gte=0), name="policy_overachievement_non_negative"),
        ]

    def __str__(self):
        return f"{self.name}（第{self.version}版）"

    def as_policy(self) -> scoring.Policy:
        """The pure scoring policy this row stands for: every setting, the caps as (Decimal, Decimal) pairs."""

        def number(value) -> Decimal:
            return value if isinstance(value, Decimal) else Decimal(str(value))

        return scoring.Policy(
            version=f"{self.name}@v{self.version}",
            reverse_formula=scoring.ReverseFormula(self.reverse_formula),
            satisfaction_floor=self.satisfaction_floor,
            overachievement_flag=self.overachievement_flag,
            grade_bands=(
                (self.grade_excellent, "优"),
                (self.grade_good, "良"),
                (self.grade_pass, "中"),
                (Decimal("0"), "差"),
            ),
            execution_weight=self.execution_weight,
            overachievement_deduction=self.overachievement_deduction or Decimal("0"),
            execution_caps=tuple((number(below), number(highest)) for below, highest in self.execution_caps or ()),
            whole_points=self.whole_points,
            reason_below_execution_rate=self.reason_below_execution_rate,
            reason_over_target_percent=self.reason_over_target_percent,
        )


class GoalTable(models.Model):
    """绩效目标表 — a project's 项目支出绩效目标表 or a unit's 部门整体绩效目标表 for one year."""

    class Scope(models.TextChoices):
        PROJECT = "project", "项目支出绩效目标表"
        UNIT = "unit", "部门整体绩效目标表"

    class Status(models.TextChoices):
        # 申报 → 审核 → 批复 (domain.md §9): kpi.goals.workflow moves a table between these.
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已申报"
        PASSED = "passed", "审核通过"
        RETURNED = "returned", "已退回"
        APPROVED = "approved", "已批复"
        CLOSED = "closed", "已关闭"

    # Statuses in which the unit may still edit the table freely (after 批复, a change is a 调整).
    EDITABLE = (Status.DRAFT, Status.RETURNED)

    scope = models.CharField("类型", max_length=10, choices=Scope.choices, default=Scope.PROJECT)
    unit = models.ForeignKey(Unit, verbose_name="预算单位", on_delete=models.PROTECT, related_name="goal_tables")
    project = models.ForeignKey(
        Project, verbose_name="项目", null=True, blank=True, on_delete=models.PROTECT, related_name="goal_tables"
    )
    year = models.PositiveSmallIntegerField("年度")
    overall_goal = models.TextField("总体目标", blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    policy = models.ForeignKey(
        ScoringPolicy, verbose_name="评分政策", null=True, blank=True, on_delete=models.PROTECT,
        help_text="留空使用年度政策或默认政策",
    )
    weights_defaulted = models.BooleanField("权重按默认分配", default=False)
    source = models.CharField("来源", max_length=255, blank=True)
    # The table this one was started from ("以上年为基础编制"), e.g. the 2026 table of a 2027 one.
    previous = models.ForeignKey(
        "self", verbose_name="上年目标表", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_tables"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    # Anything that can change a score bumps changed_at; rescoring sets scored_at.
    changed_at = models.DateTimeField("最近变更", auto_now_add=True)
    scored_at = models.DateTimeField("最近评分", null=True, blank=True)
    history = HistoricalRecords(verbose_name="绩效目标表变更", excluded_fields=["changed_at", "scored_at"])

    class Meta:
        verbose_name = verbose_name_plural = "绩效目标表"
        ordering = ["unit__code", "year", "scope", "project__name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="project") & Q(project__isnull=False)) | (Q(scope="unit") & Q(project__isnull=True)),
                name="goal_table_scope_matches_project",
            ),
            models.UniqueConstraint(
                fields=["project"], condition=Q(scope="project"), name="goal_table_one_per_project"
            ),
            models.UniqueConstraint(
                fields=["unit", "year"], condition=Q(scope="unit"), name="goal_table_one_unit_table_per_year"
            ),
        ]

    def __str__(self):
        subject = self.project.name if self.project_id else f"{self.unit.name}（部门整体）"
        return f"{self.year} {subject}"

    # `is_stale` as a filter: the tables changed since they were last scored ("评分更新中").
    STALE = Q(scored_at__isnull=True) | Q(scored_at__lt=F("changed_at"))

    @property
    def is_stale(self) -> bool:
        return self.scored_at is None or self.scored_at < self.changed_at


class Indicator(models.Model):
    """绩效指标 — one row of a goal table: three levels, a target and how it is scored."""

    class Accumulation(models.TextChoices):
        CUMULATIVE = "cumulative", "累计值（数量、总额）"
        LEVEL = "level", "水平值（比率、标准、满意度）"

    class Rule(models.TextChoices):
        PROPORTIONAL = scoring.Rule.PROPORTIONAL.value, scoring.Rule.PROPORTIONAL.value
        DIRECT = scoring.Rule.DIRECT.value, scoring.Rule.DIRECT.value
        GRADED = scoring.Rule.GRADED.value, scoring.Rule.GRADED.value
        SATISFACTION = scoring.Rule.SATISFACTION.value, scoring.Rule.SATISFACTION.value

    class TargetKind(models.TextChoices):
        POSITIVE = Kind.POSITIVE.value, "正向"
        REVERSE = Kind.REVERSE.value, "反向"
        EQUALS = Kind.EQUALS.value, "等于"
        RANGE = Kind.RANGE.value, "区间"
        DEADLINE = Kind.DEADLINE.value, "时限"
        QUALITATIVE = Kind.QUALITATIVE.value, "定性"
        UNKNOWN = Kind.UNKNOWN.value, "无法识别"

    table = models.ForeignKey(GoalTable, verbose_name="绩效目标表", on_delete=models.CASCADE, related_name="indicators")
    order = models.PositiveIntegerField("序号")
    level1 = models.CharField("一级指标", max_length=50)
    level2 = models.CharField("二级指标", max_length=50)
    name = models.CharField("三级指标", max_length=300)
    target_raw = models.CharField("指标值", max_length=300)
    # The 指标值 exactly as published, when the effective one above was completed from another column (a
    # comparator from 指标性质, a unit from the indicator's name); "" when they are the same.
    target_published = models.CharField("公开的指标值", max_length=300, blank=True)
    target_kind = models.CharField("指标值类型", max_length=12, choices=TargetKind.choices, default=Kind.UNKNOWN)
    target_value = models.DecimalField("目标值", **QUANTITY, null=True, blank=True)
    target_upper = models.DecimalField("目标上限", **QUANTITY, null=True, blank=True)
    unit = models.CharField("计量单位", max_length=50, blank=True)
    target_flags = models.JSONField("指标值提示", default=list, blank=True)
    basis = models.TextField("指标值设置依据", blank=True)
    last_year = models.CharField("上年完成值", max_length=200, blank=True)
    # Copied from last year's table: that indicator (its target, actual and score are shown while editing),
    # and whether it had no approved actual to fill 上年完成值 from.
    previous = models.ForeignKey(
        "self", verbose_name="上年指标", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_indicators"
    )
    last_year_missing = models.BooleanField("上年无完成值", default=False)
    weight = models.DecimalField("分值权重", **POINTS, validators=[MinValueValidator(Decimal("0"))])
    rule = models.CharField("指标赋分规则", max_length=20, choices=Rule.choices)
    evidence = models.TextField("佐证资料", blank=True)
    accumulation = models.CharField(
        "累计或水平", max_length=12, choices=Accumulation.choices, default=Accumulation.LEVEL
    )
    not_applicable = models.BooleanField("不适用", default=False)
    not_applicable_reason = models.TextField("不适用原因", blank=True)
    history = HistoricalRecords(verbose_name="绩效指标变更")

    class Meta:
        verbose_name = verbose_name_plural = "绩效指标"
        ordering = ["table", "order"]
        constraints = [
            models.UniqueConstraint(fields=["table", "order"], name="indicator_unique_order"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="indicator_weight_non_negative"),
            models.CheckConstraint(
                condition=Q(not_applicable=False) | ~Q(not_applicable_reason=""),
                name="indicator_not_applicable_needs_reason",
            ),
        ]

    def __str__(self):
        return f"{self.level1}/{self.level2}/{self.name}"

    @property
    def entry_mode(self) -> str:
        """How its actual is entered (form, bulk import): see kpi.entries.entry_mode."""
        from .entries import entry_mode

        return entry_mode(self.target_kind, self.rule)

    @property
    def target(self):
        """The parsed target as the scoring engine wants it."""
        from .formatting import tidy_decimal
        from .targets import Target

        return Target(
            kind=Kind(self.target_kind),
            value=tidy_decimal(self.target_value),
            upper=tidy_decimal(self.target_upper),
            unit=self.unit,
            raw=self.target_raw,
            flags=tuple(self.target_flags or ()),
        )


class Report(models.Model):
    """填报 — the actuals of one goal table as of a date, reviewed as a whole.

    Draft until the lead submits it; the unit administrator approves it or returns it with a reason.
    Only approved reports count for official scores; drafts and submitted ones give a provisional score.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已提交"
        APPROVED = "approved", "已审核"
        RETURNED = "returned", "已退回"

    OPEN = (Status.DRAFT, Status.SUBMITTED)

    table = models.ForeignKey(GoalTable, verbose_name="绩效目标表", on_delete=models.CASCADE, related_name="reports")
    as_of = models.DateField("截至日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    replaces = models.ForeignKey(
        "self", verbose_name="更正的填报", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_note = models.TextField("审核意见（退回原因）", blank=True)
    # The indicators a return's reason is about (ids): shown beside them when the lead corrects the report.
    review_indicators = models.JSONField("退回涉及的指标", default=list, blank=True)
    history = HistoricalRecords(verbose_name="填报审核记录")

    class Meta:
        verbose_name = verbose_name_plural = "填报"
        ordering = ["table", "as_of", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["table", "as_of"], condition=Q(status__in=["draft", "submitted"]),
                name="report_one_open_per_table_and_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(review_note=""), name="report_return_needs_reason"
            ),
        ]

    def __str__(self):
        return f"{self.table} 截至 {self.as_of:%Y-%m-%d}（{self.get_status_display()}）"


class ActualQuerySet(models.QuerySet):
    def that_count(self):
        """The actuals that count: every one but those of returned (已退回) reports. Approved ones make the
        official scores; drafts and submitted ones count provisionally."""
        return self.exclude(report__status=Report.Status.RETURNED)

    def approved(self):
        """The actuals of approved (已审核) reports: what official scores and the 自评表 use."""
        return self.filter(report__status=Report.Status.APPROVED)

    def finals(self) -> dict[int, "Actual"]:
        """The final actual of each indicator among these (latest date, then the latest correction), by
        indicator id, in one query — e.g. `approved().filter(indicator_id__in=ids).finals()` for 上年完成值."""
        final: dict[int, Actual] = {}
        for actual in self.order_by("indicator_id", "as_of", "id"):
            final[actual.indicator_id] = actual  # ordered: the last one of each indicator wins
        return final


class Actual(models.Model):
    """实际完成值 — what an indicator achieved by `as_of` (year-to-date). Append-only: a correction is a new row."""

    class Grade(models.TextChoices):
        ACHIEVED = scoring.Grade.ACHIEVED.value, scoring.Grade.ACHIEVED.value
        PARTIAL = scoring.Grade.PARTIAL.value, scoring.Grade.PARTIAL.value
        FAILED = scoring.Grade.FAILED.value, scoring.Grade.FAILED.value

    class DeviationCategory(models.TextChoices):
        FUNDING = "经费保障", "经费保障"
        RULES = "制度保障", "制度保障"
        STAFF = "人员保障", "人员保障"
        HARDWARE = "硬件条件", "硬件条件"
        OTHER = "其他", "其他"

    class Likelihood(models.TextChoices):
        CERTAIN = "确定能", "确定能"
        POSSIBLE = "有可能", "有可能"
        IMPOSSIBLE = "完全不可能", "完全不可能"

    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="actuals")
    report = models.ForeignKey(Report, verbose_name="填报", on_delete=models.PROTECT, related_name="actuals")
    as_of = models.DateField("截至日期")
    value = models.DecimalField("实际完成值", **QUANTITY, null=True, blank=True)
    met = models.BooleanField("是否达成", null=True, blank=True)
    grade = models.CharField("评判等级", max_length=30, choices=Grade.choices, blank=True)
    points = models.DecimalField("评判得分", **POINTS, null=True, blank=True)
    forecast = models.DecimalField("全年预计完成值", **QUANTITY, null=True, blank=True)
    likelihood = models.CharField("完成目标可能性", max_length=10, choices=Likelihood.choices, blank=True)
    deviation_category = models.CharField("偏差原因类别", max_length=10, choices=DeviationCategory.choices, blank=True)
    deviation_reason = models.TextField("偏差原因", blank=True)
    needs_rectification = models.BooleanField("是否需要整改", null=True, blank=True)
    rectification_measures = models.TextField("整改措施", blank=True)
    replaces = models.ForeignKey(
        "self", verbose_name="更正的记录", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, blank=True, on_delete=models.SET_NULL
    )
    recorded_at = models.DateTimeField("填报时间", auto_now_add=True)
    history = HistoricalRecords(verbose_name="实际完成值变更")

    objects = ActualQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "实际完成值"
        ordering = ["indicator", "as_of", "id"]
        indexes = [models.Index(fields=["indicator", "as_of"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__isnull=False) | Q(met__isnull=False) | ~Q(grade=""),
                name="actual_has_a_value",
            ),
            models.CheckConstraint(condition=Q(points__isnull=True) | Q(points__gte=0), name="actual_points_non_negative"),
        ]

    def __str__(self):
        return f"{self.indicator.name} @ {self.as_of}"


# The foreign keys of what a rescore computes (Score, TableScore, TableSummary) have no database constraint.
# Those rows are derived: every rescore deletes and rewrites a table's rows from the indicators and actuals it
# has just read under the table's lock, and Django still cascades a delete to them (on_delete is Django's, not
# the database's). A constraint only made the database check every written row's three references at commit:
# measured, a third of a bulk rescore on PostgreSQL. A row left behind by a delete racing a rescore points at
# nothing, is never shown (pages join it to its indicator and table) and goes at the table's next rescore.
DERIVED = {"db_constraint": False}


class Score(models.Model):
    """得分 — an indicator's score as of a date, computed by the engine from the latest actual up to then.

    Official scores use approved reports only. A provisional row (official=False) exists only where a
    draft or submitted report gives a different actual than the approved ones.
    """

    # No index of their own: the unique (indicator, as_of, official) and the (table, official, as_of) index
    # start with them, and every rescore pays for each index it writes.
    # No database constraint either (DERIVED, below): the deletes still cascade, through Django.
    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="scores",
                                  db_index=False, **DERIVED)
    table = models.ForeignKey(GoalTable, verbose_name="绩效目标表", on_delete=models.CASCADE, related_name="scores",
                              db_index=False, **DERIVED)
    actual = models.ForeignKey(Actual, verbose_name="依据的实际值", null=True, on_delete=models.SET_NULL, **DERIVED)
    as_of = models.DateField("截至日期")
    official = models.BooleanField("正式得分", default=True, help_text="正式得分只用已审核的填报；否则为含待审核填报的暂算得分")
    points = models.DecimalField("得分", **POINTS)
    ratio = models.DecimalField("完成比例", max_digits=12, decimal_places=4, null=True, blank=True)
    explanation = models.CharField("计算说明", max_length=500)
    flags = models.JSONField("提示", default=list, blank=True)
    policy_version = models.CharField("评分政策版本", max_length=120)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = verbose_name_plural = "指标得分"
        ordering = ["table", "as_of", "indicator__order"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "as_of", "official"], name="score_one_per_indicator_and_date"),
            models.CheckConstraint(condition=Q(points__gte=0), name="score_points_non_negative"),
        ]
        indexes = [models.Index(fields=["table", "official", "as_of"])]

    def __str__(self):
        return f"{self.indicator.name} @ {self.as_of}: {self.points}"


class TableScore(models.Model):
    """总分 — a goal table's total as of a date: budget execution (10) plus indicator scores."""

    table = models.ForeignKey(GoalTable, verbose_name="绩效目标表", on_delete=models.CASCADE, related_name="totals",
                              **DERIVED)
    as_of = models.DateField("截至日期")
    official = models.BooleanField("正式得分", default=True)
    budget = models.DecimalField("全年预算数", max_digits=16, decimal_places=4, null=True, blank=True)
    executed = models.DecimalField("执行数", max_digits=16, decimal_places=4, null=True, blank=True)
    execution_rate = models.DecimalField("执行率", max_digits=9, decimal_places=4, null=True, blank=True)
    execution_points = models.DecimalField("执行率得分", **POINTS, null=True, blank=True)
    indicator_points = models.DecimalField("指标得分", **POINTS)
    total = models.DecimalField("总分", **POINTS)
    grade = models.CharField("等级", max_length=4)
    missing = models.PositiveIntegerField("缺少实际值的指标数", default=0)
    policy_version = models.CharField("评分政策版本", max_length=120)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = verbose_name_plural = "目标表总分"
        ordering = ["table", "as_of"]
        constraints = [
            models.UniqueConstraint(fields=["table", "as_of", "official"], name="table_score_one_per_date"),
            models.CheckConstraint(condition=Q(total__gte=0), name="table_score_total_non_negative"),
        ]

    def __str__(self):
        return f"{self.table} @ {self.as_of}: {self.total}"


class TableSummary(models.Model):
    """What the scorecards show of a goal table, stored by the rescore in the transaction that writes its
    scores: its current light (domain.md §6, as `kpi.monitoring.selectors.table_statuses` computes it), last
    update, missing count, budget and execution, and its latest official and provisional totals. Pages and the
    roll-up sort, filter and aggregate these rows in SQL instead of recomputing every table's light."""

    LIGHT_CHOICES = [(light.value, light.label) for light in Light]

    table = models.OneToOneField(GoalTable, verbose_name="绩效目标表", on_delete=models.CASCADE,
                                 primary_key=True, related_name="summary", **DERIVED)
    # Copied from the table, so that a unit's, a year's or a project's rows are read without a join.
    unit = models.ForeignKey(Unit, verbose_name="预算单位", on_delete=models.CASCADE, related_name="+", **DERIVED)
    year = models.PositiveSmallIntegerField("年度")
    project = models.OneToOneField(Project, verbose_name="项目", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="table_summary", **DERIVED)
    light = models.CharField("监控灯", max_length=10, choices=LIGHT_CHOICES, default=Light.NONE.value)
    light_rank = models.PositiveSmallIntegerField("监控灯次序", default=4, help_text="0 红 1 黄 2 蓝 3 绿 4 未填报")
    budget_light = models.CharField("预算执行灯", max_length=10, choices=LIGHT_CHOICES, default=Light.NONE.value)
    as_of = models.DateField("最近数据日期", null=True, blank=True)
    last_update = models.DateTimeField("最近更新", null=True, blank=True)
    missing = models.PositiveIntegerField("未填报指标数", default=0)
    budget = models.DecimalField("全年预算数", max_digits=16, decimal_places=4, null=True, blank=True)
    executed = models.DecimalField("执行数", max_digits=16, decimal_places=4, null=True, blank=True)
    execution_rate = models.DecimalField("执行率", max_digits=9, decimal_places=4, null=True, blank=True)
    official_as_of = models.DateField("正式得分截至日期", null=True, blank=True)
    official_execution_rate = models.DecimalField("正式执行率", max_digits=9, decimal_places=4, null=True, blank=True)
    official_execution_points = models.DecimalField("正式执行率得分", **POINTS, null=True, blank=True)
    official_indicator_points = models.DecimalField("正式指标得分", **POINTS, null=True, blank=True)
    official_total = models.DecimalField("正式总分", **POINTS, null=True, blank=True)
    official_grade = models.CharField("正式等级", max_length=4, blank=True)
    official_missing = models.PositiveIntegerField("正式得分缺少实际值的指标数", null=True, blank=True)
    provisional_as_of = models.DateField("暂评截至日期", null=True, blank=True)
    provisional_total = models.DecimalField("暂评总分", **POINTS, null=True, blank=True)
    provisional_grade = models.CharField("暂评等级", max_length=4, blank=True)
    provisional_missing = models.PositiveIntegerField("暂评缺少实际值的指标数", null=True, blank=True)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = verbose_name_plural = "目标表概况"
        indexes = [models.Index(fields=["unit", "year"], name="table_summary_unit_year")]

    def __str__(self):
        return f"{self.table_id}: {self.light} {self.official_total}"


class RescoreJob(models.Model):
    """A bulk rescore (a year, a unit, or everything) and its progress, for a progress bar."""

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "进行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    unit = models.ForeignKey(Unit, verbose_name="预算单位", null=True, blank=True, on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    total_tables = models.PositiveIntegerField("目标表数", default=0)
    done_tables = models.PositiveIntegerField("已完成", default=0)
    error = models.TextField("错误", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "批量评分任务"
        ordering = ["-created_at"]

    def __str__(self):
        return f"评分任务 #{self.pk}（{self.get_status_display()}）"

    @property
    def percent(self) -> int:
        """How far it is: finished batches only; a job not yet planned (no tables counted) is at 0, not 100."""
        if not self.total_tables:
            return 100 if self.status == self.Status.DONE else 0
        return round(100 * self.done_tables / self.total_tables)


class RescoreBatch(models.Model):
    """One fixed-size slice of a job's table ids; finishing it twice counts once."""

    job = models.ForeignKey(RescoreJob, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField()
    table_ids = models.JSONField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="rescore_batch_unique_index")]

    def __str__(self):
        return f"评分任务 #{self.job_id} 第 {self.index + 1} 批"


class IndicatorChange(models.Model):
    """指标调整记录 — a target or weight changed after actuals were recorded (e.g. by re-importing a corrected table)."""

    class Field(models.TextChoices):
        TARGET = "target", "指标值"
        WEIGHT = "weight", "分值权重"
        RULE = "rule", "指标赋分规则"

    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="changes")
    field = models.CharField("调整项", max_length=10, choices=Field.choices)
    old_value = models.CharField("原值", max_length=300)
    new_value = models.CharField("新值", max_length=300)
    source = models.CharField("来源文件", max_length=255, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="调整人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField("调整时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "指标调整记录"
        ordering = ["indicator", "changed_at", "id"]

    def __str__(self):
        return f"{self.indicator.name}：{self.get_field_display()} {self.old_value} → {self.new_value}"


class Adjustment(models.Model):
    """调整 — a change of an approved (已批复) table's targets, weights or rules, with its reason.

    It goes through the same review as the table (申报 → 审核通过 / 退回 → 批复). Once approved, the values it
    replaces are kept as IndicatorVersion rows in force until `effective_from`, so scores before that date
    still use the approved targets (kpi.goals.adjustments)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已申报"
        PASSED = "passed", "审核通过"
        RETURNED = "returned", "已退回"
        APPROVED = "approved", "已批复"
        WITHDRAWN = "withdrawn", "已撤回"

    OPEN = (Status.DRAFT, Status.SUBMITTED, Status.PASSED, Status.RETURNED)

    table = models.ForeignKey(GoalTable, verbose_name="绩效目标表", on_delete=models.CASCADE, related_name="adjustments")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    reason = models.TextField("调整原因")
    effective_from = models.DateField("生效日期", help_text="此日及以后的得分使用调整后的指标")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提出人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("提出时间", auto_now_add=True)
    approved_at = models.DateTimeField("批复时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "指标调整"
        ordering = ["table", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["table"], condition=Q(status__in=["draft", "submitted", "passed", "returned"]),
                name="adjustment_one_open_per_table",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="adjustment_needs_reason"),
        ]

    def __str__(self):
        return f"{self.table} 调整（{self.get_status_display()}）"


class AdjustmentRow(models.Model):
    """One indicator's adjusted values in an adjustment, beside the values in force when it was proposed."""

    adjustment = models.ForeignKey(Adjustment, verbose_name="指标调整", on_delete=models.CASCADE, related_name="rows")
    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="adjustment_rows")
    target_raw = models.CharField("调整后指标值", max_length=300)
    weight = models.DecimalField("调整后分值权重", **POINTS, validators=[MinValueValidator(Decimal("0"))])
    rule = models.CharField("调整后赋分规则", max_length=20, choices=Indicator.Rule.choices)
    old_target_raw = models.CharField("原指标值", max_length=300)
    old_weight = models.DecimalField("原分值权重", **POINTS)
    old_rule = models.CharField("原赋分规则", max_length=20, choices=Indicator.Rule.choices)

    class Meta:
        verbose_name = verbose_name_plural = "指标调整明细"
        ordering = ["adjustment", "indicator__order"]
        constraints = [
            models.UniqueConstraint(fields=["adjustment", "indicator"], name="adjustment_row_once_per_indicator"),
        ]

    def __str__(self):
        return f"{self.indicator.name}：{self.old_target_raw} → {self.target_raw}"


class IndicatorVersion(models.Model):
    """A superseded version of an indicator's scored values, in force for dates before `valid_until`.

    Scoring at a date uses the version with the earliest `valid_until` after that date, or the indicator's
    own (current) values when there is none. The first version of an adjusted indicator is the approved one."""

    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="versions")
    valid_until = models.DateField("有效至（不含）")
    adjustment = models.ForeignKey(
        Adjustment, verbose_name="由此调整替代", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_raw = models.CharField("指标值", max_length=300)
    target_kind = models.CharField("指标值类型", max_length=12, choices=Indicator.TargetKind.choices)
    target_value = models.DecimalField("目标值", **QUANTITY, null=True, blank=True)
    target_upper = models.DecimalField("目标上限", **QUANTITY, null=True, blank=True)
    unit = models.CharField("计量单位", max_length=50, blank=True)
    weight = models.DecimalField("分值权重", **POINTS)
    rule = models.CharField("指标赋分规则", max_length=20, choices=Indicator.Rule.choices)

    class Meta:
        verbose_name = verbose_name_plural = "指标历史版本"
        ordering = ["indicator", "valid_until"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "valid_until"], name="indicator_version_unique_date"),
        ]

    def __str__(self):
        return f"{self.indicator.name}（{self.valid_until} 前）：{self.target_raw}"


class GoalTableStep(models.Model):
    """审核流程记录 — one step of a goal table (or of one of its adjustments) through 申报 → 审核 → 批复:
    who, when, from which status to which, and the reason (required to 退回)."""

    class Action(models.TextChoices):
        SUBMIT = "submit", "申报"
        PASS = "pass", "审核通过"
        RETURN = "return", "退回"
        APPROVE = "approve", "批复"
        WITHDRAW = "withdraw", "撤回"

    table = models.ForeignKey(GoalTable, verbose_name="绩效目标表", on_delete=models.CASCADE, related_name="steps")
    adjustment = models.ForeignKey(
        Adjustment, verbose_name="指标调整", null=True, blank=True, on_delete=models.CASCADE, related_name="steps"
    )
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    from_status = models.CharField("原状态", max_length=10)
    to_status = models.CharField("新状态", max_length=10)
    reason = models.TextField("意见或原因", blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField("操作时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "审核流程记录"
        ordering = ["table", "at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(action="return") | ~Q(reason=""), name="step_return_needs_reason"),
        ]

    def __str__(self):
        return f"{self.table} {self.get_action_display()}"


class LibraryEntry(models.Model):
    """指标库 entry (domain.md §8): an indicator reused across units and years, with its defaults.

    Built from every table (kpi.library.services.library_build); curated by 主管部门/财政 users, who merge
    synonyms (`merged_into`: the entry a synonym now stands for) and mark entries recommended."""

    key = models.CharField("归并键", max_length=400, unique=True, help_text="规范化的“二级指标/三级指标”")
    level1 = models.CharField("一级指标", max_length=50)
    level2 = models.CharField("二级指标", max_length=50)
    name = models.CharField("三级指标", max_length=300)
    explanation = models.TextField("指标解释", blank=True)
    standard = models.TextField("评（扣）分标准", blank=True)
    target_kind = models.CharField("指标值类型", max_length=12, choices=Indicator.TargetKind.choices,
                                   default=Kind.UNKNOWN)
    unit = models.CharField("计量单位", max_length=50, blank=True)
    rule = models.CharField("默认赋分规则", max_length=20, choices=Indicator.Rule.choices, blank=True)
    accumulation = models.CharField("累计或水平", max_length=12, choices=Indicator.Accumulation.choices,
                                    default=Indicator.Accumulation.LEVEL)
    recommended = models.BooleanField("推荐", default=False)
    curated = models.BooleanField("已人工整理", default=False, help_text="整理过的默认值不再被重建覆盖")
    merged_into = models.ForeignKey(
        "self", verbose_name="归并到", null=True, blank=True, on_delete=models.SET_NULL, related_name="synonyms"
    )
    uses_count = models.PositiveIntegerField("使用次数", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords(verbose_name="指标库变更")

    class Meta:
        verbose_name = verbose_name_plural = "指标库"
        ordering = ["level1", "level2", "name"]
        indexes = [models.Index(fields=["level2", "name"])]

    def __str__(self):
        return f"{self.level1}/{self.level2}/{self.name}"


class LibraryUse(models.Model):
    """Where a library entry was used: one indicator of one unit's table of one year, with its target and
    the final approved actual (when there is one) — the "targets and actuals seen for it"."""

    entry = models.ForeignKey(LibraryEntry, verbose_name="指标库条目", on_delete=models.CASCADE, related_name="uses")
    indicator = models.OneToOneField(Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="library_use")
    unit = models.ForeignKey(Unit, verbose_name="预算单位", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    target_raw = models.CharField("指标值", max_length=300)
    target_kind = models.CharField("指标值类型", max_length=12, choices=Indicator.TargetKind.choices)
    target_value = models.DecimalField("目标值", **QUANTITY, null=True, blank=True)
    target_unit = models.CharField("计量单位", max_length=50, blank=True)
    actual_value = models.DecimalField("最终实际完成值", **QUANTITY, null=True, blank=True)
    actual_text = models.CharField("最终实际完成情况", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "指标库使用记录"
        ordering = ["entry", "year", "unit"]
        indexes = [models.Index(fields=["entry", "year"])]

    def __str__(self):
        return f"{self.entry} · {self.year} · {self.target_raw}"


class ImportJob(models.Model):
    """An uploaded goal-table file: previewed first, imported in a Celery task after confirmation."""

    class Status(models.TextChoices):
        READING = "reading", "读取中"
        PREVIEW = "preview", "待确认"
        PENDING = "pending", "排队中"
        RUNNING = "running", "导入中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    filename = models.CharField("文件名", max_length=255)
    content = models.BinaryField("文件内容")
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    unit_name = models.CharField("预算单位", max_length=200, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PREVIEW)
    total_tables = models.PositiveIntegerField("目标表数", default=0)
    preview = models.JSONField("导入预览", default=dict, blank=True, help_text="读取时计算一次：每张目标表导入后会如何")
    prune = models.BooleanField("删除文件中没有的指标", default=False,
                                help_text="只删除没有实际完成值的指标；不勾选时文件中没有的指标予以保留")
    summary = models.JSONField("导入结果", default=list, blank=True)
    error = models.TextField("错误", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.CASCADE, related_name="import_jobs"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导入任务"
        ordering = ["-created_at"]

    def __str__(self):
        return f"导入 {self.filename}（{self.get_status_display()}）"

    @property
    def progress_key(self) -> str:
        return f"import-job:{self.pk}:progress"



def evidence_path(instance, filename: str) -> str:
    """A non-guessable stored name: the original name is kept in the row, never in the path."""
    import uuid

    return f"evidence/{instance.indicator.table_id}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """佐证资料 — a file proving an indicator's actual (PDF, image, Word/Excel/WPS document)."""

    indicator = models.ForeignKey(Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="evidence_files")
    report = models.ForeignKey(
        Report, verbose_name="填报", null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence_files"
    )
    file = models.FileField("文件", upload_to=evidence_path, max_length=255)
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("文件类型", max_length=100)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    history = HistoricalRecords(verbose_name="佐证资料变更")  # uploads and removals, for the 变更记录

    class Meta:
        verbose_name = verbose_name_plural = "佐证资料"
        ordering = ["indicator", "uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class ReminderSent(models.Model):
    """One reminder e-mail per person, kind and monitoring period: re-running the task sends nothing twice."""

    class Kind(models.TextChoices):
        LEAD = "lead", "项目负责人填报提醒"
        DIGEST = "digest", "单位管理员逾期汇总"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    period = models.DateField("监控期末")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "已发送提醒"
        constraints = [models.UniqueConstraint(fields=["user", "kind", "period"], name="reminder_once_per_period")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.period:%Y-%m}"


def selfeval_path(instance, filename: str) -> str:
    """A non-guessable stored name under selfeval/; the download name is made from the row, never from the path."""
    import uuid

    return f"selfeval/{instance.unit_id}/{uuid.uuid4().hex}.{instance.format}"


class SelfEvalReport(models.Model):
    """绩效自评报告 — a kept self-evaluation file (one table's xlsx/pdf, or a whole unit's zip) with the data it
    was made from (`snapshot`, the JSON form of `kpi.selfeval.data`), so it can be reproduced and compared.

    A whole-unit bundle (table = null, format zip) is built by a Celery task that records its progress here.
    """

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel"
        PDF = "pdf", "PDF"
        ZIP = "zip", "ZIP 压缩包"

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    unit = models.ForeignKey(Unit, verbose_name="预算单位", on_delete=models.CASCADE, related_name="selfeval_reports")
    year = models.PositiveSmallIntegerField("年度")
    table = models.ForeignKey(
        GoalTable, verbose_name="绩效目标表", null=True, blank=True, on_delete=models.CASCADE,
        related_name="selfeval_reports", help_text="留空表示整个单位的自评材料包",
    )
    format = models.CharField("格式", max_length=4, choices=Format.choices)
    file = models.FileField("文件", upload_to=selfeval_path, max_length=255, blank=True)
    policy_version = models.CharField("评分政策版本", max_length=500, blank=True)
    snapshot = models.JSONField("自评数据快照", default=dict, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField("已完成", default=0)
    total = models.PositiveIntegerField("总数", default=0)
    error = models.TextField("错误", blank=True)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="生成人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    generated_at = models.DateTimeField("生成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "绩效自评报告"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["unit", "year", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(table__isnull=True) & Q(format="zip")) | (Q(table__isnull=False) & ~Q(format="zip")),
                name="selfeval_zip_is_whole_unit",
            ),
            models.CheckConstraint(condition=Q(done__lte=models.F("total")), name="selfeval_done_within_total"),
        ]

    def __str__(self):
        subject = str(self.table) if self.table_id else f"{self.year} {self.unit}（全部）"
        return f"绩效自评 {subject} {self.get_format_display()}（{self.get_status_display()}）"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return 0 if not self.total else min(100, round(100 * self.done / self.total))
