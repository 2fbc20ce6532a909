"""Load Jixiao's own demo data (written by us, not copied from any published document). Idempotent.

The goal tables come from `kpi/demo/demo-disclosure-2026.txt`, a disclosure we wrote in the published
2026 layout, imported exactly as a unit's own disclosure would be; then leads are assigned and the
year's actuals and budget execution recorded, as the people would through the app: the administrator
names the leads and approves (批复) the tables through the services, so every step is in the history (and
a year closed and reopened gives each table back the status it had).
"""
import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from budgets.models import Project, Unit
from budgets.services import membership_grant, project_assign_lead, unit_create
from kpi.goals.services import goal_table_approve
from kpi.importers.parsed import NotADisclosure
from kpi.importers.services import import_file
from kpi.models import GoalTable, Indicator, Report
from kpi.reports.services import actual_record, execution_report, report_approve, report_submit

DEMO_PASSWORD = "jixiao-demo-2026"
DEMO_DISCLOSURE = Path(__file__).resolve().parents[2] / "demo" / "demo-disclosure-2026.txt"
YEAR = 2026
MID_YEAR = dt.date(YEAR, 7, 31)
AUTUMN = dt.date(YEAR, 10, 31)
UNIT_NAME = "示范市社会保险服务中心"
# The finance bureau above the 主管部门: its reviewer ratifies (批复) the tables the 主管部门 passed.
FINANCE = ("DEMO-CZ", "示范市财政局")

DEMO_MAIL_DOMAIN = "example.org"  # reserved for examples (RFC 2606): the reminders have an address, mail goes nowhere
USERS = [
    # username, full name, superuser, (unit code, role) or None, description; each has username@DEMO_MAIL_DOMAIN
    ("admin", "系统管理员", True, None, "系统管理员，可进入管理后台"),
    ("liumin", "刘敏", False, ("DEMO-SB", "admin"), "示范市社会保险服务中心 单位管理员"),
    ("chenjing", "陈静", False, ("DEMO-RS", "reviewer"), "示范市人力资源和社会保障局 主管部门审核"),
    ("sunli", "孙丽", False, ("DEMO-CZ", "reviewer"), "示范市财政局 财政批复"),
    ("wangfang", "王芳", False, ("DEMO-SB", "lead"), "项目负责人"),
    ("zhaolei", "赵磊", False, ("DEMO-SB", "lead"), "项目负责人"),
]

# Per project (None: the unit's 部门整体 table): lead, cumulative 执行数, and actuals by 三级指标.
# An actual is a number in the indicator's unit, True/False (达成) or (grade, points).
RECORDS = {
    "城乡居民养老保险待遇发放服务项目": {
        "lead": "wangfang",
        "execution": {MID_YEAR: Decimal("26.10"), AUTUMN: Decimal("39.80")},
        "actuals": {
            "待遇领取人员资格认证人数": {MID_YEAR: Decimal("1.9"), AUTUMN: Decimal("2.9")},
            "待遇按时足额发放率": {MID_YEAR: Decimal("100")},
            "待遇发放完成时间": {MID_YEAR: True},
            "单人次认证服务成本": {MID_YEAR: Decimal("1.62")},
            "参保群众办事便利度": {MID_YEAR: ("达成年度指标", Decimal("13.5"))},
            "待遇发放差错率": {MID_YEAR: Decimal("0.3")},
            "待遇领取人员满意度": {AUTUMN: Decimal("93.5")},
        },
    },
    "社会保障卡服务网点建设项目": {
        "lead": "zhaolei",
        "execution": {MID_YEAR: Decimal("38.40")},
        "actuals": {
            "新建即时制卡网点数": {MID_YEAR: Decimal("5")},
            "发放社会保障卡数量": {MID_YEAR: Decimal("2.1")},
            "网点设备验收合格率": {MID_YEAR: Decimal("96")},
            "单个网点建设成本": {MID_YEAR: Decimal("8.6")},
            "群众办卡平均等待时间": {MID_YEAR: Decimal("12")},
            "办卡群众满意度": {MID_YEAR: Decimal("88")},
        },
    },
    None: {
        "lead": "admin",
        "execution": {MID_YEAR: Decimal("371.20")},
        "actuals": {
            "社会保险参保登记办理件数": {MID_YEAR: Decimal("1.7")},
            "社会保险基金稽核覆盖率": {MID_YEAR: Decimal("97")},
            "业务办结时限": {MID_YEAR: Decimal("4")},
        },
    },
}


class Command(BaseCommand):
    help = "载入示范数据（导入示范单位的部门预算公开文件，再录入实际完成值和用户）。可重复执行。"

    def handle(self, *args, **options):
        from django.conf import settings

        if not settings.JIXIAO_ALLOW_DEMO_DATA:
            raise CommandError("生产环境不能载入示范数据：示范账号的密码是公开的。")
        if Unit.objects.filter(code="DEMO-SB").exists():
            self.stdout.write("示范数据已存在，跳过。")
            self.give_addresses()
            with transaction.atomic():
                self.add_finance()
        else:
            with transaction.atomic():
                self.load()
            self.stdout.write(self.style.SUCCESS("示范数据已载入，得分由 Celery 任务计算。"))
        self.stdout.write(f"示范账号（密码均为 {DEMO_PASSWORD}）：")
        for username, full_name, _superuser, _role, description in USERS:
            self.stdout.write(f"  {username:<10} {full_name}（{description}）")

    def load(self):
        finance = unit_create(code=FINANCE[0], name=FINANCE[1])
        bureau = unit_create(code="DEMO-RS", name="示范市人力资源和社会保障局", parent=finance)
        unit_create(code="DEMO-SB", name=UNIT_NAME, parent=bureau)
        users = self.create_users()
        try:
            _document, outcome = import_file(data=DEMO_DISCLOSURE.read_bytes(), filename=DEMO_DISCLOSURE.name)
        except NotADisclosure as error:
            raise CommandError(f"示范公开文件无法导入：{error}") from error
        for table in outcome.tables:
            self.stdout.write(f"  {table.summary()}")
        unit = Unit.objects.get(code="DEMO-SB")
        for project_name, spec in RECORDS.items():
            lead = users[spec["lead"]]
            if project_name is None:
                table = GoalTable.objects.get(unit=unit, year=YEAR, scope=GoalTable.Scope.UNIT)
                for as_of, executed in spec["execution"].items():
                    execution_report(unit=unit, year=YEAR, as_of=as_of, executed=executed, user=lead)
            else:
                project = Project.objects.get(unit=unit, year=YEAR, name=project_name)
                project_assign_lead(project=project, lead=lead, user=users["liumin"])
                table = GoalTable.objects.get(project=project)
                for as_of, executed in spec["execution"].items():
                    execution_report(project=project, as_of=as_of, executed=executed, user=lead)
            goal_table_approve(table=table, user=users["liumin"])
            self.record_actuals(table, spec["actuals"], lead, approver=users["liumin"])

    def create_users(self) -> dict:
        users = {}
        User = get_user_model()
        for username, full_name, superuser, role, _description in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": full_name, "is_superuser": superuser, "is_staff": superuser,
                          "email": f"{username}@{DEMO_MAIL_DOMAIN}"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if role:
                membership_grant(user=user, unit=Unit.objects.get(code=role[0]), role=role[1])
            users[username] = user
        return users

    def add_finance(self):
        """An older demo load has no finance bureau: add it above DEMO-RS, with its reviewer (孙丽)."""
        finance = Unit.objects.filter(code=FINANCE[0]).first() or unit_create(code=FINANCE[0], name=FINANCE[1])
        bureau = Unit.objects.get(code="DEMO-RS")
        if bureau.parent_id is None:
            bureau.parent = finance
            bureau.full_clean()
            bureau.save(update_fields=["parent"])
        self.create_users()

    def give_addresses(self):
        """Demo users of an older load have no e-mail address: give them theirs (the reminders need one)."""
        User = get_user_model()
        for username, *_rest in USERS:
            User.objects.filter(username=username, email="").update(email=f"{username}@{DEMO_MAIL_DOMAIN}")

    def record_actuals(self, table, actuals, user, approver):
        """Record the actuals; July reports are approved, October ones only submitted."""
        indicators = {i.name: i for i in Indicator.objects.filter(table=table)}
        for name, by_date in actuals.items():
            indicator = indicators[name]
            for as_of, actual in by_date.items():
                if isinstance(actual, tuple):
                    actual_record(indicator=indicator, as_of=as_of, grade=actual[0], points=actual[1], user=user)
                elif isinstance(actual, bool):
                    actual_record(indicator=indicator, as_of=as_of, met=actual, user=user)
                else:
                    actual_record(indicator=indicator, as_of=as_of, value=actual, user=user)
        for report in Report.objects.filter(table=table).order_by("as_of"):
            report_submit(report=report, user=user)
            if report.as_of == MID_YEAR:
                report_approve(report=report, user=approver)
