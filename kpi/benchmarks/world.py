"""A world the size of a province, built in bulk and scored through the real rescore path.

A finance bureau (财政局, the root unit) above `units` units: ⌈units / 51⌉ 主管部门 under the root and the
rest spread evenly under them (about 50 per department). One "big" unit (the first unit of the first
department) has `projects` projects, every other unit `SMALL_UNIT_PROJECTS`; the root has none. Every
project has an approved goal table of the eight indicators of `INDICATORS` (the kinds the app scores:
a cumulative count, a positive and an equals rate, a deadline, a reverse cost, a graded qualitative one, a
zero-target rate and a satisfaction one; weights summing to 90), and every unit below the root its own
部门整体 table of the same rows; each table one approved report at the cut (July 31) with its actuals — most on
track, some yellow or red with a deviation reason, a few missing — and budget and execution per source.

Rows are written with bulk_create (with their history records, as simple_history would keep them, so the
pages that read the history see what they see in production); the scores are then computed by
`kpi.rescoring.services.tables_rescore` in batches of RESCORE_BATCH_SIZE, and ANALYZE runs on PostgreSQL.
The users are the big unit's 单位管理员, a 主管部门 reviewer of the department holding it, a finance-bureau
reviewer at the root (every unit) and the 项目负责人 of the big unit's first project.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from budgets.models import BudgetExecution, Project, Role, Unit, UnitBudget
from budgets.services import membership_grant
from kpi import scoring
from kpi.goals.services import default_accumulation
from kpi.models import Actual, GoalTable, Indicator, Report
from kpi.targets import parse_target

DEPARTMENT_SIZE = 50  # units under one 主管部门
SMALL_UNIT_PROJECTS = 5
CUT_MONTH = 7  # the actuals are reported as of July 31 (1–7月, the default monitoring cut)
BATCH = 1000
SEED = 20260731

# (key, 一级指标, 二级指标, 三级指标, 指标值, 分值权重, 赋分规则 or None for the kind's default). Weights sum to 90.
INDICATORS = (
    ("count", "产出指标", "数量指标", "培训人次", ">=1200人次", 15, None),
    ("rate", "产出指标", "质量指标", "验收合格率", ">=95%", 15, None),
    ("deadline", "产出指标", "时效指标", "项目完成时限", "{year}年12月31日前", 10, None),
    ("reverse", "成本指标", "经济成本指标", "人均培训成本", "<=50元/人", 10, None),
    ("graded", "效益指标", "社会效益指标", "服务能力提升", "有效提升", 10, None),
    ("equals", "效益指标", "可持续影响指标", "设备完好率", "=100%", 10, None),
    ("zero", "效益指标", "社会效益指标", "安全事故发生率", "=0%", 10, None),
    ("satisfaction", "满意度指标", "服务对象满意度指标", "服务对象满意度", ">=90%", 10, scoring.Rule.SATISFACTION.value),
)
# What a table may miss (not reported at the cut): the ones people leave for later.
MISSABLE = ("graded", "satisfaction")
# Off-track values per light: (low, high) drawn uniformly; a value in the indicator's unit.
VALUES = {
    "count": {"green": (600, 840), "blue": (860, 960), "yellow": (430, 545), "red": (150, 400)},
    "rate": {"green": (88, 100), "yellow": (62, 74), "red": (35, 55)},
    "reverse": {"green": (35, 50), "red": (55, 80)},
    "equals": {"green": (90, 100), "yellow": (65, 78), "red": (30, 55)},
    "zero": {"green": (0, 0), "red": (0.5, 3)},
    "satisfaction": {"green": (85, 99), "yellow": (58, 70), "red": (30, 50)},
}
# 按评判等级赋分 with a weight of 10: the grade and points inside its band.
GRADED = {"green": (scoring.Grade.ACHIEVED, (8, 10)), "yellow": (scoring.Grade.PARTIAL, (6, 7.9)),
          "red": (scoring.Grade.FAILED, (2, 5.9))}
# Which indicators can be yellow (the others go straight from green to red).
CAN_BE_YELLOW = ("count", "rate", "graded", "equals", "satisfaction")
REASONS = (
    ("经费保障", "资金拨付滞后，项目进度慢于计划"),
    ("人员保障", "专业人员不足，部分工作延后开展"),
    ("制度保障", "配套制度尚未出台，实施细则待明确"),
    ("硬件条件", "场地设备未到位，培训场次减少"),
    ("其他", "受天气影响，部分活动延期"),
)
NAMES = ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷", "徐强", "孙丽")


@dataclass
class World:
    """What was built: the ids and users a benchmark needs, and how many rows of each kind."""

    year: int
    cut: dt.date
    root_id: int
    department_ids: list[int]
    unit_ids: list[int]  # every unit, the root included
    big_unit_id: int
    big_department_id: int
    admin: object  # the big unit's 单位管理员
    reviewer: object  # 主管部门 reviewer of the department holding the big unit
    finance: object  # finance-bureau reviewer at the root: every unit
    lead: object  # 项目负责人 of `lead_project_id`
    lead_project_id: int
    probe_indicator_id: int  # the lead project's count indicator (培训人次), for a save-to-score probe
    big_project_ids: list[int] = field(default_factory=list)
    table_ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def department_count(units: int) -> int:
    """How many of the `units` are 主管部门: one per DEPARTMENT_SIZE units under it, at least one."""
    return max(1, math.ceil(units / (DEPARTMENT_SIZE + 1)))


def world_build(*, projects: int, units: int, year: int | None = None, seed: int = SEED, say=None) -> World:
    """Build the world (see the module docstring) and score it; returns what was built."""
    say = say or (lambda message: None)
    if units < 1 or projects < 1:
        raise ValueError("单位数和项目数都至少为 1。")
    year = year or timezone.localdate().year
    cut = dt.date(year, CUT_MONTH, 31)
    rng = random.Random(seed)
    with transaction.atomic():
        world = _build(projects=projects, units=units, year=year, cut=cut, rng=rng)
    say(f"已写入 {world.counts['units']} 个单位、{world.counts['projects']} 个项目、{world.counts['tables']} 张目标表、"
        f"{world.counts['indicators']} 个指标、{world.counts['actuals']} 个实际完成值；评分中…")
    world.counts["scores"] = world_rescore(table_ids=world.table_ids)
    return world


def world_rescore(*, table_ids: list[int]) -> int:
    """Score every table the way the bulk jobs do (tables_rescore, batch by batch), then ANALYZE on
    PostgreSQL (fresh tables have no statistics yet). Returns the number of indicator scores written."""
    from kpi.rescoring.services import RESCORE_BATCH_SIZE, tables_rescore

    written = 0
    for start in range(0, len(table_ids), RESCORE_BATCH_SIZE):
        written += tables_rescore(table_ids=table_ids[start:start + RESCORE_BATCH_SIZE])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return written


def _aware(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 2)))


def _split(total: Decimal, parts: dict[str, Decimal]) -> dict[str, Decimal]:
    """`total` split in proportion to `parts` (to the cent), the remainder on the largest: they add up exactly."""
    whole = sum(parts.values())
    if not whole:
        return {name: Decimal("0") for name in parts}
    shares = {name: (total * value / whole).quantize(Decimal("0.01")) for name, value in parts.items()}
    largest = max(parts, key=parts.get)
    shares[largest] += total - sum(shares.values())
    return shares


def _build(*, projects: int, units: int, year: int, cut: dt.date, rng: random.Random) -> World:
    created = _aware(dt.date(year, 1, 15))
    reported = _aware(dt.date(year, CUT_MONTH + 1, 3))

    root = Unit.objects.create(code="BENCH-0000", name="基准市财政局")
    n_departments = department_count(units)
    departments = Unit.objects.bulk_create(
        Unit(code=f"BENCH-D{i + 1:03d}", name=f"基准主管部门{i + 1:03d}", parent=root, contact="王芳",
             phone="0571-88000000")
        for i in range(n_departments)
    )
    others = units - n_departments
    per_department = math.ceil(others / n_departments) if others else 0
    children = Unit.objects.bulk_create(
        (Unit(code=f"BENCH-U{i + 1:04d}", name=f"基准预算单位{i + 1:04d}",
              parent=departments[i // per_department], contact="李娜", phone="0571-88000001")
         for i in range(others)),
        batch_size=BATCH,
    )
    big_unit = children[0] if children else departments[0]
    budget_units = [*departments, *children]

    users = _users(big_unit=big_unit, department=departments[0], root=root)

    # Projects: the big unit's first is led by the lead user, the others by a published name.
    project_rows = []
    for unit in budget_units:
        count = projects if unit.pk == big_unit.pk else SMALL_UNIT_PROJECTS
        for i in range(count):
            project_rows.append(_project(unit, year, i, rng, lead=users["lead"] if unit.pk == big_unit.pk and i == 0
                                         else None))
    projects_made = bulk_create_with_history(project_rows, Project, batch_size=BATCH, default_date=created)
    unit_budgets = bulk_create_with_history(
        [UnitBudget(unit=unit, year=year, fiscal_superior=_money(rng, 100, 500), fiscal_local=_money(rng, 200, 2000),
                    other=_money(rng, 0, 100)) for unit in budget_units],
        UnitBudget, batch_size=BATCH, default_date=created,
    )

    tables = bulk_create_with_history(
        [*(GoalTable(scope=GoalTable.Scope.PROJECT, unit_id=p.unit_id, project=p, year=year,
                     status=GoalTable.Status.APPROVED, overall_goal="按期完成年度培训任务，提升服务能力。",
                     source="基准测试") for p in projects_made),
         *(GoalTable(scope=GoalTable.Scope.UNIT, unit=u, year=year, status=GoalTable.Status.APPROVED,
                     overall_goal="履行部门职责，完成年度重点工作。", source="基准测试") for u in budget_units)],
        GoalTable, batch_size=BATCH, default_date=created,
    )

    templates = []
    for order, (key, level1, level2, name, raw, weight, rule) in enumerate(INDICATORS, start=1):
        raw = raw.format(year=year)
        target = parse_target(raw)
        templates.append((key, {
            "order": order, "level1": level1, "level2": level2, "name": name, "target_raw": raw,
            "target_kind": target.kind.value, "target_value": target.value, "target_upper": target.upper,
            "unit": target.unit, "target_flags": list(target.flags), "weight": Decimal(weight),
            "rule": rule or scoring.default_rule_for(target).value,
            "accumulation": default_accumulation(level2=level2, target=target),
        }))
    indicators = bulk_create_with_history(
        [Indicator(table=table, **fields) for table in tables for _key, fields in templates],
        Indicator, batch_size=BATCH, default_date=created,
    )

    admin, lead = users["admin"], users["lead"]
    reports = bulk_create_with_history(
        [Report(table=table, as_of=cut, status=Report.Status.APPROVED,
                created_by=lead if table.project_id and table.project.lead_id else None,
                submitted_by=lead if table.project_id and table.project.lead_id else None, submitted_at=reported,
                reviewed_by=admin if table.unit_id == big_unit.pk else None, reviewed_at=reported)
         for table in tables],
        Report, batch_size=BATCH, default_date=reported,
    )
    report_of = {r.table_id: r for r in reports}

    # Each table's profile: mostly on track, some yellow, some red; a few leave indicators unreported.
    keys = [key for key, _fields in templates]
    profiles = {}
    for table in tables:
        profile = rng.choices(("green", "yellow", "red"), weights=(70, 15, 15))[0]
        missing = set(rng.sample(MISSABLE, rng.randint(1, 2))) if rng.random() < 0.08 else set()
        profiles[table.pk] = (profile, _lights(profile, rng), missing)
    lead_table = next(t.pk for t in tables if t.project_id and t.project.lead_id)
    actual_rows = []
    for indicator in indicators:
        _profile, lights, missing = profiles[indicator.table_id]
        key = keys[indicator.order - 1]
        if key in missing:
            continue
        actual_rows.append(Actual(indicator=indicator, report=report_of[indicator.table_id], as_of=cut,
                                  recorded_by=lead if indicator.table_id == lead_table else None,
                                  **_actual_fields(key, lights[key], rng)))
    actuals = bulk_create_with_history(actual_rows, Actual, batch_size=BATCH, default_date=reported)

    executions = bulk_create_with_history(
        [*(_project_execution(p, profiles[t.pk][0], cut, rng) for p, t in zip(projects_made, tables)),
         *(_unit_execution(b, profiles[t.pk][0], cut, rng)
           for b, t in zip(unit_budgets, tables[len(projects_made):]))],
        BudgetExecution, batch_size=BATCH, default_date=reported,
    )

    big_projects = [p.pk for p in projects_made if p.unit_id == big_unit.pk]
    lead_project = projects_made[[p.unit_id for p in projects_made].index(big_unit.pk)]
    probe = next(i for i in indicators if i.table.project_id == lead_project.pk and i.order == 1)
    return World(
        year=year, cut=cut, root_id=root.pk, department_ids=[d.pk for d in departments],
        unit_ids=[root.pk, *(u.pk for u in budget_units)], big_unit_id=big_unit.pk,
        big_department_id=departments[0].pk, admin=admin, reviewer=users["reviewer"], finance=users["finance"],
        lead=lead, lead_project_id=lead_project.pk, probe_indicator_id=probe.pk, big_project_ids=big_projects,
        table_ids=[t.pk for t in tables],
        counts={"units": 1 + len(budget_units), "departments": len(departments), "projects": len(projects_made),
                "tables": len(tables), "indicators": len(indicators), "actuals": len(actuals),
                "executions": len(executions)},
    )


def _users(*, big_unit: Unit, department: Unit, root: Unit) -> dict:
    """The four users, their roles granted as an administrator grants them (membership_grant). They have no
    password: benchmarks log them in by session."""
    User = get_user_model()
    made = {}
    for key, username, last, first, unit, role in (
        ("admin", "bench-admin", "刘", "敏", big_unit, Role.ADMIN),
        ("reviewer", "bench-reviewer", "陈", "静", department, Role.REVIEWER),
        ("finance", "bench-finance", "孙", "丽", root, Role.REVIEWER),
        ("lead", "bench-lead", "王", "芳", big_unit, Role.LEAD),
    ):
        user = User.objects.create_user(username=username, password=None, last_name=last, first_name=first)
        membership_grant(user=user, unit=unit, role=role)
        made[key] = user
    return made


def _project(unit: Unit, year: int, index: int, rng: random.Random, *, lead) -> Project:
    fiscal = _money(rng, 20, 800)
    carryover = _money(rng, 1, 80) if rng.random() < 0.3 else Decimal("0")
    other = _money(rng, 5, 50) if rng.random() < 0.2 else Decimal("0")
    project = Project(
        unit=unit, year=year, name=f"基准项目{index + 1:04d}", code=f"{unit.code}-{index + 1:04d}", lead=lead,
        lead_name="" if lead else NAMES[index % len(NAMES)], budget_initial=fiscal + carryover + other,
        fiscal=fiscal, carryover=carryover, other=other,
    )
    if rng.random() < 0.15:  # adjusted in the year: more 财政拨款
        project.fiscal_adjusted = (fiscal * Decimal("1.1")).quantize(Decimal("0.01"))
        project.carryover_adjusted, project.other_adjusted = carryover, other
        project.budget_adjusted = project.fiscal_adjusted + carryover + other
        project.adjustment_reason = "年中追加预算"
    return project


def _lights(profile: str, rng: random.Random) -> dict[str, str]:
    """Each indicator's light in a table of this profile: a yellow table has a few yellow indicators, a red
    one a few red (the count always: a red table is behind its plan)."""
    lights = {key: "green" for key, *_rest in INDICATORS}
    if rng.random() < 0.05:
        lights["count"] = "blue"  # well ahead of plan
    if profile == "yellow":
        for key in CAN_BE_YELLOW:
            if rng.random() < 0.4:
                lights[key] = "yellow"
        lights["count"] = "yellow"
    elif profile == "red":
        for key in lights:
            if rng.random() < 0.3:
                lights[key] = "red"
        lights["count"] = "red"
    return lights


def _actual_fields(key: str, light: str, rng: random.Random) -> dict:
    """An actual's fields for an indicator of this kind showing this light; off-track ones with a reason."""
    if key == "deadline":
        fields = {"met": light != "red"}
    elif key == "graded":
        grade, (low, high) = GRADED.get(light, GRADED["green"])
        fields = {"grade": grade.value, "points": _money(rng, low, high)}
    else:
        low, high = VALUES[key].get(light) or VALUES[key]["green"]
        value = Decimal(rng.randint(int(low), int(high))) if key == "count" else _money(rng, low, high)
        fields = {"value": value}
    if light in ("yellow", "red"):
        category, reason = rng.choice(REASONS)
        fields.update(deviation_category=category, deviation_reason=reason,
                      likelihood="有可能" if light == "yellow" else rng.choice(("有可能", "完全不可能")))
        if light == "red":
            fields.update(needs_rectification=True, rectification_measures="加快资金拨付，按月调度进度。")
    return fields


def _rate(profile: str, rng: random.Random) -> float:
    """Share of the full-year budget spent by July 31 (7/12 ≈ 0.58 is on plan): the budget light follows."""
    return {"green": rng.uniform(0.5, 0.75), "yellow": rng.uniform(0.36, 0.45), "red": rng.uniform(0.1, 0.3)}[profile]


def _project_execution(project: Project, profile: str, cut: dt.date, rng: random.Random) -> BudgetExecution:
    budget = project.full_year_budget
    executed = (budget * Decimal(str(round(_rate(profile, rng), 4)))).quantize(Decimal("0.01"))
    adjusted = project.budget_adjusted is not None
    sources = {name: (getattr(project, f"{name}_adjusted") if adjusted else getattr(project, name))
               for name in ("fiscal", "carryover", "other")}
    return BudgetExecution(unit_id=project.unit_id, project=project, year=project.year, as_of=cut, executed=executed,
                           **_split(executed, sources))


def _unit_execution(budget: UnitBudget, profile: str, cut: dt.date, rng: random.Random) -> BudgetExecution:
    total = budget.full_year_budget
    executed = (total * Decimal(str(round(_rate(profile, rng), 4)))).quantize(Decimal("0.01"))
    sources = {name: getattr(budget, name) for name in ("fiscal_superior", "fiscal_local", "other")}
    return BudgetExecution(unit_id=budget.unit_id, project=None, year=budget.year, as_of=cut, executed=executed,
                           **_split(executed, sources))
