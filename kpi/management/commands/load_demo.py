"""Load Jixiao's own demo data (written by us, not copied from any published document). Idempotent."""
import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from budgets.models import Unit, UnitBudget
from budgets.services import execution_record, membership_grant, project_create, unit_create
from kpi.models import Report
from kpi.services import actual_record, goal_table_create, indicator_create, report_approve, report_submit

DEMO_PASSWORD = "jixiao-demo-2026"
YEAR = 2026
MID_YEAR = dt.date(YEAR, 7, 31)
AUTUMN = dt.date(YEAR, 10, 31)

USERS = [
    # username, full name, superuser, (unit code, role) or None, description
    ("admin", "系统管理员", True, None, "系统管理员，可进入管理后台"),
    ("liumin", "刘敏", False, ("DEMO-SB", "admin"), "示范市社会保险服务中心 单位管理员"),
    ("chenjing", "陈静", False, ("DEMO-RS", "reviewer"), "示范市人力资源和社会保障局 主管部门审核"),
    ("wangfang", "王芳", False, ("DEMO-SB", "lead"), "项目负责人"),
    ("zhaolei", "赵磊", False, ("DEMO-SB", "lead"), "项目负责人"),
]

# (level1, level2, name, target, weight, rule or None, basis, {as_of: actual})
PROJECTS = [
    {
        "name": "城乡居民养老保险待遇发放服务项目",
        "code": "DEMO-2026-001",
        "lead": "wangfang",
        "lead_name": "王芳",
        "funds": (Decimal("48.60"), Decimal("48.60"), Decimal("0.00")),
        "goal": "按月足额发放城乡居民养老保险待遇，提升待遇领取资格认证效率，做到应发尽发、应保尽保。",
        "execution": {MID_YEAR: Decimal("26.10"), AUTUMN: Decimal("39.80")},
        "indicators": [
            ("产出指标", "数量指标", "待遇领取人员资格认证人数", ">=3.2万人", 20, None, "上年度认证人数及本年参保变化",
             {MID_YEAR: Decimal("1.9"), AUTUMN: Decimal("2.9")}),
            ("产出指标", "质量指标", "待遇按时足额发放率", "=100%", 15, None, "社会保险法", {MID_YEAR: Decimal("100")}),
            ("产出指标", "时效指标", "待遇发放完成时间", "每月20日前", 10, "直接赋分", "经办规程", {MID_YEAR: True}),
            ("成本指标", "经济成本指标", "单人次认证服务成本", "<=1.5元/人次", 10, None, "上年度实际成本",
             {MID_YEAR: Decimal("1.62")}),
            ("效益指标", "社会效益指标", "参保群众办事便利度", "有效提升", 15, "按评判等级赋分", "年度工作要点",
             {MID_YEAR: ("达成年度指标", Decimal("13.5"))}),
            ("效益指标", "可持续影响指标", "待遇发放差错率", "<=0.5%", 10, None, "经办风险防控要求",
             {MID_YEAR: Decimal("0.3")}),
            ("满意度指标", "服务对象满意度指标", "待遇领取人员满意度", ">=90%", 10, "满意度赋分", "上年度满意度调查",
             {AUTUMN: Decimal("93.5")}),
        ],
    },
    {
        "name": "社会保障卡服务网点建设项目",
        "code": "DEMO-2026-002",
        "lead": "zhaolei",
        "lead_name": "赵磊",
        "funds": (Decimal("120.00"), Decimal("100.00"), Decimal("20.00")),
        "goal": "新建和改造社会保障卡服务网点，实现即时制卡全覆盖，缩短群众办卡等待时间。",
        "execution": {MID_YEAR: Decimal("38.40")},
        "indicators": [
            ("产出指标", "数量指标", "新建即时制卡网点数", ">=12个", 20, None, "网点建设规划", {MID_YEAR: Decimal("5")}),
            ("产出指标", "数量指标", "发放社会保障卡数量", ">=4.5万张", 15, None, "年度制卡计划",
             {MID_YEAR: Decimal("2.1")}),
            ("产出指标", "质量指标", "网点设备验收合格率", ">=98%", 10, None, "设备采购合同", {MID_YEAR: Decimal("96")}),
            ("产出指标", "时效指标", "网点建设完成时间", "2026年11月30日前", 10, None, "实施方案", {}),
            ("成本指标", "经济成本指标", "单个网点建设成本", "<=8万元/个", 10, None, "市场询价",
             {MID_YEAR: Decimal("8.6")}),
            ("效益指标", "社会效益指标", "群众办卡平均等待时间", "<=15分钟", 15, None, "服务标准",
             {MID_YEAR: Decimal("12")}),
            ("满意度指标", "服务对象满意度指标", "办卡群众满意度", ">=92%", 10, "满意度赋分", "第三方调查",
             {MID_YEAR: Decimal("88")}),
        ],
    },
]

UNIT_TABLE = {
    "goal": "依法经办各项社会保险业务，保障待遇按时足额发放，提升经办服务质量和基金安全水平。",
    "budget": (Decimal("35.00"), Decimal("612.40"), Decimal("0.00")),
    "execution": {MID_YEAR: Decimal("371.20")},
    "indicators": [
        ("履职效能", "数量指标", "社会保险参保登记办理件数", ">=2.8万件", 30, None, "上年度业务量",
         {MID_YEAR: Decimal("1.7")}),
        ("履职效能", "质量指标", "社会保险基金稽核覆盖率", ">=95%", 30, None, "基金监督要求", {MID_YEAR: Decimal("97")}),
        ("履职效能", "时效指标", "业务办结时限", "<=5个工作日", 20, None, "政务服务标准", {MID_YEAR: Decimal("4")}),
        ("服务对象满意度", "服务对象满意度指标", "服务对象满意度", ">=90%", 10, "满意度赋分", "年度测评", {}),
    ],
}


class Command(BaseCommand):
    help = "载入示范数据（示范单位、项目、绩效目标表、实际完成值和用户）。可重复执行。"

    def handle(self, *args, **options):
        if Unit.objects.filter(code="DEMO-SB").exists():
            self.stdout.write("示范数据已存在，跳过。")
        else:
            with transaction.atomic():
                self.load()
            self.stdout.write(self.style.SUCCESS("示范数据已载入，得分由 Celery 任务计算。"))
        self.stdout.write("示范账号（密码均为 %s）：" % DEMO_PASSWORD)
        for username, full_name, _superuser, _role, description in USERS:
            self.stdout.write(f"  {username:<10} {full_name}（{description}）")

    def load(self):
        bureau = unit_create(code="DEMO-RS", name="示范市人力资源和社会保障局")
        centre = unit_create(code="DEMO-SB", name="示范市社会保险服务中心", parent=bureau,
                             contact="刘敏", phone="0000-12345678")
        users = {}
        User = get_user_model()
        for username, full_name, superuser, role, _description in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": full_name, "is_superuser": superuser, "is_staff": superuser},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if role:
                membership_grant(user=user, unit=Unit.objects.get(code=role[0]), role=role[1])
            users[username] = user
        for spec in PROJECTS:
            total, fiscal, other = spec["funds"]
            project = project_create(
                unit=centre, year=YEAR, name=spec["name"], code=spec["code"], lead=users[spec["lead"]],
                lead_name=spec["lead_name"], budget_initial=total, fiscal=fiscal, other=other,
            )
            table = goal_table_create(unit=centre, year=YEAR, project=project, overall_goal=spec["goal"],
                                      status="approved", source="示范数据")
            self.add_indicators(table, spec["indicators"], users[spec["lead"]])
            for as_of, executed in spec["execution"].items():
                execution_record(project=project, as_of=as_of, executed=executed, user=users[spec["lead"]])
        superior, local, other = UNIT_TABLE["budget"]
        UnitBudget.objects.create(unit=centre, year=YEAR, fiscal_superior=superior, fiscal_local=local, other=other)
        table = goal_table_create(unit=centre, year=YEAR, overall_goal=UNIT_TABLE["goal"], status="approved",
                                  source="示范数据")
        self.add_indicators(table, UNIT_TABLE["indicators"], users["admin"])
        for as_of, executed in UNIT_TABLE["execution"].items():
            execution_record(unit=centre, year=YEAR, as_of=as_of, executed=executed, user=users["admin"])

    def add_indicators(self, table, rows, user):
        """Add the rows and their actuals; July reports are approved, October ones only submitted."""
        for level1, level2, name, target, weight, rule, basis, actuals in rows:
            indicator = indicator_create(
                table=table, level1=level1, level2=level2, name=name, target_raw=target,
                weight=Decimal(weight), rule=rule, basis=basis,
            )
            for as_of, actual in actuals.items():
                if isinstance(actual, tuple):
                    actual_record(indicator=indicator, as_of=as_of, grade=actual[0], points=actual[1], user=user)
                elif isinstance(actual, bool):
                    actual_record(indicator=indicator, as_of=as_of, met=actual, user=user)
                else:
                    actual_record(indicator=indicator, as_of=as_of, value=actual, user=user)
        admin = get_user_model().objects.get(username="liumin")
        for report in Report.objects.filter(table=table).order_by("as_of"):
            report_submit(report=report, user=user)
            if report.as_of == MID_YEAR:
                report_approve(report=report, user=admin)
