"""填报提醒: who is reminded of last month's monitoring report, in Chinese, once per period."""
import datetime as dt
import logging
import os
import re
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command

from budgets.models import Role
from budgets.services import membership_grant
from kpi.goals.services import goal_table_create
from kpi.models import GoalTable, ReminderSent
from kpi.reminders.services import reminder_period, reminders_send
from kpi.reminders.tasks import send_reminders
from kpi.reports.services import actual_record, report_return, report_submit
from kpi.yearclose.services import unit_year_close
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]
DUE_DAY = dt.date(2026, 8, 5)  # July's figures are due
JULY_END = dt.date(2026, 7, 31)


def overdue_project(*, unit=None, lead=None, name=None, **extra):
    project = ProjectFactory(unit=unit or UnitFactory(), lead=lead, **({"name": name} if name else {}), **extra)
    table, indicators = table_with_indicators(project)
    return project, table, indicators


def record(indicators, as_of):
    return actual_record(indicator=indicators[0], as_of=as_of, value=Decimal("50")).report


def to(address):
    return [m for m in mail.outbox if m.to == [address]]


@pytest.fixture
def scene():
    """Two units: one administrator each (one of them also runs the second unit), two leads."""
    unit_a, unit_b = UnitFactory(name="市教育局"), UnitFactory(name="市卫健委")
    lead = UserFactory(username="lead", email="lead@example.org", last_name="王", first_name="小明")
    other_lead = UserFactory(username="other", email="other@example.org")
    admin_a = UserFactory(username="admin_a", email="admin_a@example.org", last_name="李", first_name="华")
    admin_b = UserFactory(username="admin_b", email="admin_b@example.org")
    membership_grant(user=admin_a, unit=unit_a, role=Role.ADMIN)
    membership_grant(user=admin_a, unit=unit_b, role=Role.ADMIN)
    membership_grant(user=admin_b, unit=unit_b, role=Role.ADMIN)
    membership_grant(user=lead, unit=unit_a, role=Role.LEAD)
    teachers, _, _ = overdue_project(unit=unit_a, lead=lead, name="教师培训项目")
    schools, _, _ = overdue_project(unit=unit_a, lead=lead, name="校舍维修项目")
    clinics, _, _ = overdue_project(unit=unit_b, lead=other_lead, name="基层医疗能力提升")
    return {"unit_a": unit_a, "unit_b": unit_b, "lead": lead, "other_lead": other_lead, "admin_a": admin_a,
            "admin_b": admin_b, "teachers": teachers, "schools": schools, "clinics": clinics}


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        (dt.date(2026, 8, 5), dt.date(2026, 7, 1), dt.date(2026, 7, 31)),
        (dt.date(2026, 3, 5), dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        (dt.date(2028, 3, 5), dt.date(2028, 2, 1), dt.date(2028, 2, 29)),
        (dt.date(2027, 1, 5), dt.date(2026, 12, 1), dt.date(2026, 12, 31)),  # December of last year
    ],
)
def test_the_period_due_is_the_previous_month(today, start, end):
    period = reminder_period(today=today)
    assert (period.start, period.end) == (start, end)


def test_each_lead_gets_one_chinese_email_listing_their_overdue_projects(scene):
    result = reminders_send(today=DUE_DAY)

    message, = to("lead@example.org")
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert "请填报" in message.subject and "2026年7月" in message.subject and "2 个项目" in message.subject
    assert message.body.startswith("王小明，您好：")
    assert "2026年7月（截至 2026-07-31）" in message.body
    for project in (scene["teachers"], scene["schools"]):
        assert f"{project.name}（市教育局）" in message.body
        assert f"/projects/{project.pk}/" in message.body
    assert "基层医疗能力提升" not in message.body
    other, = to("other@example.org")
    assert "基层医疗能力提升" in other.body and "教师培训项目" not in other.body
    assert result["overdue_projects"] == 3
    assert ReminderSent.objects.filter(kind=ReminderSent.Kind.LEAD, period=JULY_END).count() == 2


def test_each_unit_administrator_gets_one_digest_of_their_units(scene):
    result = reminders_send(today=DUE_DAY)

    digest_a, = to("admin_a@example.org")  # administers both units: still one e-mail
    assert "逾期未填报项目汇总" in digest_a.subject and "3 个项目" in digest_a.subject
    assert digest_a.body.startswith("李华，您好：")
    assert "【市教育局】" in digest_a.body and "【市卫健委】" in digest_a.body
    assert "教师培训项目 — 项目负责人：王小明" in digest_a.body
    assert f"/projects/{scene['clinics'].pk}/" in digest_a.body
    digest_b, = to("admin_b@example.org")
    assert "【市卫健委】" in digest_b.body and "市教育局" not in digest_b.body
    assert "1 个项目" in digest_b.subject
    assert (result["sent_lead"], result["sent_digest"], len(mail.outbox)) == (2, 2, 4)
    assert set(ReminderSent.objects.filter(kind=ReminderSent.Kind.DIGEST).values_list("user__username", flat=True)) \
        == {"admin_a", "admin_b"}


def test_running_twice_sends_nothing_twice(scene):
    reminders_send(today=DUE_DAY)
    sent = len(mail.outbox)
    again = reminders_send(today=DUE_DAY)
    assert len(mail.outbox) == sent == 4
    assert (again["sent_lead"], again["sent_digest"], again["already_sent"]) == (0, 0, 4)
    assert ReminderSent.objects.count() == 4


def test_a_new_period_is_reminded_again(scene):
    reminders_send(today=DUE_DAY)
    mail.outbox.clear()
    reminders_send(today=dt.date(2026, 9, 5))
    assert len(mail.outbox) == 4
    assert "2026年8月（截至 2026-08-31）" in to("lead@example.org")[0].body


def test_a_failed_send_is_not_recorded_so_a_retry_sends_it(scene, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    def broken(self, messages):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    with pytest.raises(ConnectionRefusedError):
        reminders_send(today=DUE_DAY)
    assert not ReminderSent.objects.exists()
    monkeypatch.undo()
    reminders_send(today=DUE_DAY)
    assert len(mail.outbox) == 4


def test_a_project_with_a_report_of_the_month_or_later_is_not_reminded(scene):
    _, _, on_time = overdue_project(unit=scene["unit_a"], lead=scene["lead"], name="按时填报项目")
    record(on_time, as_of=dt.date(2026, 7, 1))  # the first day of the month counts
    _, _, later = overdue_project(unit=scene["unit_a"], lead=scene["lead"], name="超前填报项目")
    report_submit(report=record(later, as_of=dt.date(2026, 8, 3)))  # later counts, submitted too
    _, _, stale = overdue_project(unit=scene["unit_a"], lead=scene["lead"], name="仅有六月数据")
    record(stale, as_of=dt.date(2026, 6, 30))  # last month's report is not this one

    reminders_send(today=DUE_DAY)
    body = to("lead@example.org")[0].body
    assert "按时填报项目" not in body and "超前填报项目" not in body
    assert "仅有六月数据" in body
    assert "按时填报项目" not in to("admin_a@example.org")[0].body


def test_a_returned_report_does_not_count(scene):
    _, _, indicators = overdue_project(unit=scene["unit_a"], lead=scene["lead"], name="被退回项目")
    report = report_submit(report=record(indicators, as_of=JULY_END))
    report_return(report=report, reason="佐证材料不全")
    reminders_send(today=DUE_DAY)
    assert "被退回项目" in to("lead@example.org")[0].body


def test_closed_tables_unit_tables_and_other_years_are_not_reminded(scene):
    unit = scene["unit_a"]
    closed = ProjectFactory(unit=unit, lead=scene["lead"], name="已关闭项目")
    goal_table_create(unit=unit, year=2026, project=closed, status=GoalTable.Status.CLOSED)
    overdue_project(unit=unit, lead=scene["lead"], name="明年项目", year=2027)
    table_with_indicators(unit=unit, year=2026)  # the unit's 部门整体 table: no lead to remind
    ProjectFactory(unit=unit, lead=scene["lead"], name="无目标表项目")

    result = reminders_send(today=DUE_DAY)
    assert result["overdue_projects"] == 3
    text = "".join(m.body for m in mail.outbox)
    for name in ("已关闭项目", "明年项目", "无目标表项目"):
        assert name not in text


def test_a_closed_year_is_not_reminded(scene):
    unit_year_close(unit=scene["unit_a"], year=2026, user=None)
    reminders_send(today=DUE_DAY)
    assert not to("lead@example.org")
    assert "教师培训项目" not in to("admin_a@example.org")[0].body
    assert to("other@example.org")


def test_users_without_an_address_are_skipped_and_counted(scene):
    scene["lead"].email = ""
    scene["lead"].save()
    scene["admin_b"].email = ""
    scene["admin_b"].save()
    result = reminders_send(today=DUE_DAY)
    assert result["skipped_no_email"] == 2
    assert (result["sent_lead"], result["sent_digest"]) == (1, 1)
    assert not ReminderSent.objects.filter(user__in=[scene["lead"], scene["admin_b"]]).exists()


def test_a_project_without_a_lead_account_is_in_the_digest_with_its_public_lead_name():
    unit = UnitFactory(name="市文旅局")
    admin = UserFactory(email="admin@example.org")
    membership_grant(user=admin, unit=unit, role=Role.ADMIN)
    overdue_project(unit=unit, name="文化下乡", lead_name="赵六")
    result = reminders_send(today=DUE_DAY)
    message, = mail.outbox
    assert "文化下乡 — 项目负责人：赵六" in message.body
    assert result["projects_without_lead"] == 1


def test_nothing_overdue_sends_nothing(scene):
    for project in (scene["teachers"], scene["schools"], scene["clinics"]):
        record(list(project.goal_tables.get().indicators.all()), as_of=JULY_END)
    result = reminders_send(today=DUE_DAY)
    assert (mail.outbox, result["overdue_projects"]) == ([], 0)


def test_the_task_acts_only_on_the_reminder_day(scene, settings):
    settings.JIXIAO_REMINDER_DAY = 5
    assert send_reminders.apply(args=["2026-08-04"]).get() is None
    assert send_reminders.apply(args=["2026-08-06"]).get() is None
    assert mail.outbox == [] and not ReminderSent.objects.exists()

    result = send_reminders.apply(args=["2026-08-05"]).get()
    assert (result["period"], result["sent_lead"], result["sent_digest"]) == ("2026-07-31", 2, 2)
    assert send_reminders.apply(args=["2026-08-05"]).get()["already_sent"] == 4  # idempotent
    assert len(mail.outbox) == 4


def test_the_task_uses_the_local_date_and_the_configured_day(scene, settings, monkeypatch):
    from django.utils import timezone

    settings.JIXIAO_REMINDER_DAY = 10
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 8, 5))
    assert send_reminders.apply().get() is None
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 8, 10))
    assert send_reminders.apply().get()["sent_lead"] == 2
    assert "每月 10 日前" in to("lead@example.org")[0].body


def test_the_task_is_scheduled_every_morning_at_eight():
    entry = settings.CELERY_BEAT_SCHEDULE["send-reminders"]
    assert entry["task"] == send_reminders.name
    schedule = entry["schedule"]
    assert (schedule.hour, schedule.minute, len(schedule.day_of_month)) == ({8}, {0}, 31)
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


def test_the_command_sends_for_a_given_date(scene):
    out = StringIO()
    call_command("send_reminders", "--date", "2026-08-05", stdout=out)
    assert "监控期末 2026-07-31" in out.getvalue() and "发送负责人提醒 2 封" in out.getvalue()
    call_command("send_reminders", "--date", "2026-08-05", stdout=out)
    assert len(mail.outbox) == 4
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", "--date", "5.8.2026")


# --- absolute links, the settings that give them, the demo's addresses --------------------------------------

def test_the_emails_carry_absolute_links_to_the_report_page(scene, settings):
    settings.JIXIAO_SITE_URL = "https://jixiao.example.org/"
    reminders_send(today=DUE_DAY)
    lead_mail = to("lead@example.org")[0].body
    teachers = scene["teachers"]
    assert f"填报地址：https://jixiao.example.org/projects/{teachers.pk}/report/?as_of=2026-07-31" in lead_mail
    digest = to("admin_a@example.org")[0].body
    assert f"https://jixiao.example.org/projects/{scene['clinics'].pk}/" in digest
    before = re.findall(r"(.{0,26})/projects/\d+/", lead_mail + digest)
    assert before and all(text.endswith("https://jixiao.example.org") for text in before)


def test_without_a_site_address_the_mails_say_paths_and_the_log_warns(scene, settings, caplog):
    settings.JIXIAO_SITE_URL = ""
    with caplog.at_level(logging.WARNING, logger="kpi.reminders.services"):
        reminders_send(today=DUE_DAY)
    assert "JIXIAO_SITE_URL is not set" in caplog.text


def test_the_link_of_the_lead_mail_opens_the_report_page_at_the_date_due(scene, client):
    scene["lead"].set_password("pw")
    scene["lead"].save()
    reminders_send(today=DUE_DAY)
    path = re.search(r"填报地址：\S*?(/projects/\d+/report/\?as_of=2026-07-31)", to("lead@example.org")[0].body).group(1)
    client.force_login(scene["lead"])
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith("?as_of=2026-07-31")


def test_local_settings_give_the_dev_server_as_the_site_address(tmp_path):
    code = "import django; from django.conf import settings; django.setup(); print(settings.JIXIAO_SITE_URL)"
    env = {k: v for k, v in os.environ.items() if k != "JIXIAO_SITE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", JIXIAO_VAR_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "http://127.0.0.1:8000", done.stderr
    env["JIXIAO_SITE_URL"] = "https://jixiao.example.org"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "https://jixiao.example.org"


def test_the_site_address_is_documented_in_env_example():
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    assert "# JIXIAO_SITE_URL=https://" in text
    explained = text.split("# JIXIAO_SITE_URL=", 1)[0]
    assert "JIXIAO_SITE_URL is the site's public address" in explained and "http://127.0.0.1:8000" in explained


def test_demo_users_have_addresses_and_get_the_reminders(settings):
    settings.JIXIAO_ALLOW_DEMO_DATA = True
    call_command("load_demo", stdout=StringIO())
    from django.contrib.auth import get_user_model

    users = dict(get_user_model().objects.values_list("username", "email"))
    for username in ("admin", "liumin", "chenjing", "wangfang", "zhaolei"):
        assert users[username] == f"{username}@example.org"
    result = reminders_send(today=dt.date(2026, 12, 5))  # November: no demo project has reported it
    assert result["skipped_no_email"] == 0
    assert {m.to[0] for m in mail.outbox} == {"wangfang@example.org", "zhaolei@example.org", "liumin@example.org"}


def test_reloading_the_demo_gives_older_demo_users_their_addresses(settings):
    settings.JIXIAO_ALLOW_DEMO_DATA = True
    call_command("load_demo", stdout=StringIO())
    from django.contrib.auth import get_user_model

    User = get_user_model()
    User.objects.filter(username="wangfang").update(email="")
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "示范数据已存在" in out.getvalue()
    assert User.objects.get(username="wangfang").email == "wangfang@example.org"
