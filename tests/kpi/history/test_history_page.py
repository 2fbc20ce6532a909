"""变更记录: evidence uploads and removals are listed; no line is empty (a save or a correction that changed
nothing a person can see is left out, one that changed a field the comparison used to ignore shows it);
targets are shown as a person writes them; a fixed number of queries."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from budgets.models import Role
from budgets.services import membership_grant
from kpi.goals.services import indicator_create
from kpi.history.selectors import project_history
from kpi.reports.services import (
    actual_record,
    evidence_add,
    execution_report,
    report_return,
    report_submit,
)
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, approve_reports, table_with_indicators

pytestmark = pytest.mark.django_db
D = Decimal
JULY = dt.date(2026, 7, 31)
PDF = b"%PDF-1.4\n" + b"x" * 3000 + b"\n%%EOF"


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def world():
    unit = UnitFactory(name="示范中心")
    admin, lead = UserFactory(first_name="管理员甲"), UserFactory(first_name="负责人乙")
    membership_grant(user=admin, unit=unit, role=Role.ADMIN)
    membership_grant(user=lead, unit=unit, role=Role.LEAD)
    project = ProjectFactory(unit=unit, lead=lead)
    table, indicators = table_with_indicators(project)
    return {"unit": unit, "admin": admin, "lead": lead, "project": project, "table": table, "indicators": indicators}


def lines_about(project, subject_part):
    return [line for line in project_history(project=project) if subject_part in line.subject]


def fields(line):
    return {change.label: (change.old, change.new) for change in line.changes}


def upload(indicator, user, name="台账.pdf"):
    return evidence_add(indicator=indicator, upload=SimpleUploadedFile(name, PDF), user=user, max_bytes=1_000_000)


def remove(evidence, user):
    """As kpi.reports.services.evidence_remove does: a delete with its user, kept as a “-” history record."""
    evidence._history_user = user
    evidence.delete()


# --- evidence ------------------------------------------------------------------------------------------

def test_evidence_uploads_and_removals_are_listed(world):
    lead, admin, indicator = world["lead"], world["admin"], world["indicators"][0]
    kept = upload(indicator, lead, "培训签到表.pdf")
    gone = upload(indicator, lead, "错传的文件.pdf")
    remove(gone, admin)

    lines = lines_about(world["project"], "佐证资料")
    assert [(line.change, line.who) for line in lines] == [("删除", "管理员甲"), ("上传", "负责人乙"),
                                                           ("上传", "负责人乙")]
    assert all(line.subject == "佐证资料 · 指标“培训人次”" for line in lines)
    removed, uploaded = lines[0], lines[2]
    assert fields(removed) == {"原文件名": (None, "错传的文件.pdf"), "文件大小": (None, "2.9 KB")}
    assert fields(uploaded)["原文件名"] == (None, "培训签到表.pdf")
    assert kept.pk


def test_the_page_lists_evidence_without_its_storage_details(client, world):
    evidence = upload(world["indicators"][1], world["lead"], "合格证明.pdf")
    remove(evidence, world["admin"])
    client.force_login(world["admin"])
    page = client.get(reverse("history:project", args=[world["project"].pk])).content.decode()
    assert "佐证资料 · 指标“合格率”" in page and "<td>上传</td>" in page and "<td>删除</td>" in page
    assert "原文件名：合格证明.pdf" in page and "文件大小：2.9 KB" in page
    assert evidence.sha256 not in page and "evidence/" not in page


# --- no empty lines --------------------------------------------------------------------------------------

def test_a_correction_of_only_the_rectification_shows_what_changed(world):
    """The correction compared value, grade, forecast, likelihood and deviation only: a correction of the
    整改 fields alone was a line with nothing in it."""
    lead, indicator = world["lead"], world["indicators"][0]
    first = actual_record(indicator=indicator, as_of=JULY, value=D("50"), user=lead)
    approve_reports(world["table"])
    actual_record(indicator=indicator, as_of=JULY, value=D("50"), needs_rectification=True,
                  rectification_measures="加强培训组织", replaces=first, user=lead)
    (line,) = lines_about(world["project"], "实际完成值（更正）")
    assert fields(line) == {"是否需要整改": ("—", "是"), "整改措施": ("—", "加强培训组织")}


def test_a_correction_that_re_records_the_same_figures_has_no_line(world):
    lead, table = world["lead"], world["table"]
    count, quality, *_ = world["indicators"]
    first = actual_record(indicator=count, as_of=JULY, value=D("50"), user=lead)
    same = actual_record(indicator=quality, as_of=JULY, value=D("90"), user=lead)
    approve_reports(table)
    actual_record(indicator=count, as_of=JULY, value=D("60"), replaces=first, user=lead)
    actual_record(indicator=quality, as_of=JULY, value=D("90"), replaces=same, user=lead)

    corrections = lines_about(world["project"], "实际完成值（更正）")
    assert len(corrections) == 1 and fields(corrections[0]) == {"实际完成值": ("50", "60")}
    assert lines_about(world["project"], "填报（更正）")  # the new report's own line says it was recorded


def test_an_execution_re_recorded_with_its_sources_shows_them(world):
    project, admin = world["project"], world["admin"]
    execution_report(project=project, as_of=JULY, executed=D("50"), user=admin)
    execution_report(project=project, as_of=JULY, executed=D("50"), user=admin,
                     by_source={"fiscal": D("30"), "carryover": D("15"), "other": D("5")})
    (correction,) = lines_about(project, "预算执行（更正）")
    assert fields(correction) == {"其中：本年财政拨款": ("—", "30"), "其中：上年结转": ("—", "15"),
                                  "其中：其他资金": ("—", "5")}
    (first,) = lines_about(project, "预算执行 截至")
    assert fields(first) == {"累计执行数": (None, "50")}


def test_a_return_names_the_indicators_it_is_about(world):
    lead, admin = world["lead"], world["admin"]
    count, quality, *_ = world["indicators"]
    actual = actual_record(indicator=count, as_of=JULY, value=D("50"), user=lead)
    report_submit(report=actual.report, user=lead)
    report_return(report=actual.report, reason="请核实", indicator_ids=[quality.pk, count.pk], user=admin)
    returned = lines_about(world["project"], "填报 截至")[0]
    assert fields(returned)["退回涉及的指标"] == ("—", "“培训人次”、“合格率”")


def test_no_line_of_a_busy_history_is_empty(world):
    """Whatever happened, every line but a deletion shows a change or a reason."""
    lead, admin, table = world["lead"], world["admin"], world["table"]
    count, quality, *_ = world["indicators"]
    first = actual_record(indicator=count, as_of=JULY, value=D("50"), user=lead)
    approve_reports(table)
    again = actual_record(indicator=count, as_of=JULY, value=D("50"), replaces=first, user=lead)
    report_submit(report=again.report, user=lead)
    report_return(report=again.report, reason="请核实", user=admin)
    execution_report(project=world["project"], as_of=JULY, executed=D("50"), user=admin)
    execution_report(project=world["project"], as_of=JULY, executed=D("50"), user=admin)
    world["project"].save()  # a save that changes nothing
    remove(upload(quality, lead), admin)

    lines = project_history(project=world["project"])
    assert lines and all(line.changes or line.reason or line.change == "删除" for line in lines)
    assert all(change.old != change.new for line in lines for change in line.changes)


# --- targets ------------------------------------------------------------------------------------------

def test_targets_are_shown_as_a_person_writes_them_with_the_published_text_one_click_away(client, world):
    indicator_create(table=world["table"], level1="满意度指标", level2="满意度指标", name="群众满意度",
                     target_raw=r"$\geq 98\%$", weight=D("5"))
    client.force_login(world["admin"])
    page = client.get(reverse("history:project", args=[world["project"].pk])).content.decode()
    assert '<details class="target"><summary>≥98%</summary><small>原文：$\\geq 98\\%$</small></details>' in page
    assert "<summary>≥100人次</summary><small>原文：&gt;=100人次</small>" in page


# --- queries ------------------------------------------------------------------------------------------

def test_the_page_query_count_does_not_grow_with_evidence(client, world, django_assert_num_queries):
    client.force_login(world["admin"])
    project, lead, admin = world["project"], world["lead"], world["admin"]
    url = reverse("history:project", args=[project.pk])
    remove(upload(world["indicators"][0], lead), admin)
    # Session and user 2, the project through the scoping 3, the history of the project, its table,
    # indicators, reports, actuals, evidence, execution and the unit's roles 8, their users 1, navigation 3.
    with django_assert_num_queries(17) as one:
        assert client.get(url).status_code == 200
    for indicator in world["indicators"]:
        for n in range(3):
            evidence = upload(indicator, lead, f"文件{n}.pdf")
        remove(evidence, admin)
    with django_assert_num_queries(len(one)):
        page = client.get(url).content.decode()
    assert page.count("<td>上传</td>") == 13 and page.count("<td>删除</td>") == 5


def test_another_projects_evidence_is_not_in_this_history(world):
    other = ProjectFactory(unit=world["unit"])
    _table, (indicator, *_rest) = table_with_indicators(other)
    upload(indicator, world["lead"], "别的项目.pdf")
    assert not lines_about(world["project"], "佐证资料")
    assert lines_about(other, "佐证资料")
