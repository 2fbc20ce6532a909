"""Budget units, their projects and funds, and budget execution (预算执行)."""
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .years import YEAR_VALIDATORS

# 万元, kept with the decimals they were published with (real tables publish 438.768): up to four places.
MONEY = {"max_digits": 16, "decimal_places": 4}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


class Unit(models.Model):
    """预算单位 — a budget unit; `parent` is its 主管部门 (supervising department)."""

    code = models.CharField("单位编码", max_length=32, unique=True)
    name = models.CharField("单位名称", max_length=200, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name="主管部门", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    contact = models.CharField("部门联系人", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=50, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "预算单位"
        ordering = ["code"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    """The roles of domain users; each is also a Django group of the same name."""

    LEAD = "lead", "项目负责人"
    ADMIN = "admin", "单位管理员"
    REVIEWER = "reviewer", "主管部门/财政审核"


class UnitMembership(models.Model):
    """A user's role in a unit. A reviewer's membership covers the unit's whole subtree (下属单位)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE,
                             related_name="memberships")
    unit = models.ForeignKey(Unit, verbose_name="预算单位", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("角色", max_length=10, choices=Role.choices)

    history = HistoricalRecords(verbose_name="单位角色变更")

    class Meta:
        verbose_name = verbose_name_plural = "单位角色"
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


class UnitBudget(models.Model):
    """年度预算 of a unit as published in its 部门整体绩效目标表."""

    unit = models.ForeignKey(Unit, verbose_name="预算单位", on_delete=models.CASCADE, related_name="budgets")
    year = models.PositiveSmallIntegerField("年度", validators=YEAR_VALIDATORS)
    fiscal_superior = models.DecimalField("财政资金（上级安排）", **MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    fiscal_local = models.DecimalField("财政资金（本级安排）", **MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    other = models.DecimalField("其他资金", **MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    adjusted = models.DecimalField("全年预算数（调整后）", **MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    # 全年预算数 per source once the budget is adjusted (the 自评表 shows each); None: not recorded.
    fiscal_superior_adjusted = models.DecimalField("全年预算数：财政资金（上级安排）", **MONEY, null=True, blank=True,
                                                   validators=NON_NEGATIVE)
    fiscal_local_adjusted = models.DecimalField("全年预算数：财政资金（本级安排）", **MONEY, null=True, blank=True,
                                                validators=NON_NEGATIVE)
    other_adjusted = models.DecimalField("全年预算数：其他资金", **MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    adjustment_reason = models.TextField("调整原因", blank=True)
    history = HistoricalRecords(verbose_name="部门年度预算变更")

    class Meta:
        verbose_name = verbose_name_plural = "部门年度预算"
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="unit_budget_unique_year")]

    def __str__(self):
        return f"{self.unit} {self.year}"

    @property
    def total(self) -> Decimal:
        """合计 as published (年初)."""
        return self.fiscal_superior + self.fiscal_local + self.other

    @property
    def full_year_budget(self) -> Decimal:
        """全年预算数: the adjusted budget when set, otherwise the published one."""
        return self.adjusted if self.adjusted is not None else self.total


class Project(models.Model):
    """A budget project (项目) of one unit and fiscal year, with its funds in 万元."""

    unit = models.ForeignKey(Unit, verbose_name="预算单位", on_delete=models.PROTECT, related_name="projects")
    year = models.PositiveSmallIntegerField("年度", validators=YEAR_VALIDATORS)
    name = models.CharField("项目名称", max_length=200)
    code = models.CharField("项目编码", max_length=64, blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="项目负责人（用户）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_projects",
    )
    lead_name = models.CharField("项目负责人（公开名）", max_length=50, blank=True)
    budget_initial = models.DecimalField("年初预算数", **MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    budget_adjusted = models.DecimalField(
        "全年预算数（调整后）", **MONEY, null=True, blank=True, validators=NON_NEGATIVE
    )
    adjustment_reason = models.TextField("预算调整原因", blank=True)
    fiscal = models.DecimalField("其中：财政拨款", **MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    carryover = models.DecimalField("上年结转", **MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    other = models.DecimalField("其他资金", **MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    # 全年预算数 per source once the budget is adjusted (the 自评表 shows each); None: not recorded.
    fiscal_adjusted = models.DecimalField("全年预算数：本年财政拨款", **MONEY, null=True, blank=True,
                                          validators=NON_NEGATIVE)
    carryover_adjusted = models.DecimalField("全年预算数：上年结转", **MONEY, null=True, blank=True,
                                             validators=NON_NEGATIVE)
    other_adjusted = models.DecimalField("全年预算数：其他资金", **MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    history = HistoricalRecords(verbose_name="项目变更")

    class Meta:
        verbose_name = verbose_name_plural = "项目"
        ordering = ["unit__code", "year", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year", "name"], name="project_unique_name_per_unit_year"),
            models.CheckConstraint(
                condition=Q(budget_initial__gte=0) & Q(fiscal__gte=0) & Q(carryover__gte=0) & Q(other__gte=0),
                name="project_funds_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(budget_adjusted__isnull=True) | Q(budget_adjusted__gte=0),
                name="project_adjusted_budget_non_negative",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def full_year_budget(self) -> Decimal:
        """全年预算数: the adjusted budget when set, otherwise 年初预算数."""
        return self.budget_adjusted if self.budget_adjusted is not None else self.budget_initial


# The funds sources of each kind of budget, as (field, label): a project's and a unit's own (部门整体).
PROJECT_SOURCES = (("fiscal", "本年财政拨款"), ("carryover", "上年结转"), ("other", "其他资金"))
UNIT_SOURCES = (("fiscal_superior", "财政资金（上级安排）"), ("fiscal_local", "财政资金（本级安排）"), ("other", "其他资金"))


class BudgetExecution(models.Model):
    """执行数 — cumulative spending of a project (or, with no project, of the whole unit) as of a date.

    Append-only: a correction is a new row; the latest row per date counts.
    """

    unit = models.ForeignKey(Unit, verbose_name="预算单位", on_delete=models.CASCADE, related_name="executions")
    project = models.ForeignKey(
        Project, verbose_name="项目", null=True, blank=True, on_delete=models.CASCADE, related_name="executions"
    )
    year = models.PositiveSmallIntegerField("年度", validators=YEAR_VALIDATORS)
    as_of = models.DateField("截至日期")
    executed = models.DecimalField("累计执行数", **MONEY, validators=NON_NEGATIVE)
    # The same figure per source, when given (they add up to `executed`): a project's 本年财政拨款 / 上年结转 /
    # 其他资金, or the unit's own 财政资金 上级安排 / 本级安排 / 其他资金. None: not recorded.
    fiscal = models.DecimalField("其中：本年财政拨款", **MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    carryover = models.DecimalField("其中：上年结转", **MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    fiscal_superior = models.DecimalField("其中：财政资金（上级安排）", **MONEY, null=True, blank=True,
                                          validators=NON_NEGATIVE)
    fiscal_local = models.DecimalField("其中：财政资金（本级安排）", **MONEY, null=True, blank=True,
                                       validators=NON_NEGATIVE)
    other = models.DecimalField("其中：其他资金", **MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, blank=True, on_delete=models.SET_NULL
    )
    recorded_at = models.DateTimeField("填报时间", auto_now_add=True)
    replaces = models.ForeignKey(
        "self", verbose_name="更正的记录", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    history = HistoricalRecords(verbose_name="预算执行变更")

    class Meta:
        verbose_name = verbose_name_plural = "预算执行"
        ordering = ["as_of", "id"]
        indexes = [models.Index(fields=["project", "as_of"]), models.Index(fields=["unit", "year", "as_of"])]
        constraints = [
            models.CheckConstraint(condition=Q(executed__gte=0), name="execution_non_negative"),
        ]

    def __str__(self):
        return f"{self.project or self.unit} {self.as_of}: {self.executed}"


class UnitYear(models.Model):
    """A unit's fiscal year: closed at year end (goal tables, actuals and execution become read-only).

    Reopening needs a reason; every close and reopen is kept in the history with who, when and why.
    """

    unit = models.ForeignKey(Unit, verbose_name="预算单位", on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField("年度", validators=YEAR_VALIDATORS)
    closed = models.BooleanField("已关账", default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField("操作时间", auto_now=True)
    reason = models.TextField("原因", blank=True, help_text="重新开放时必须填写")
    history = HistoricalRecords(verbose_name="年度关账记录")

    class Meta:
        verbose_name = verbose_name_plural = "单位年度"
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="unit_year_unique")]

    def __str__(self):
        return f"{self.unit} {self.year}（{'已关账' if self.closed else '开放'}）"
