"""Bulk import of actuals and budget execution: the service, the import_actuals command and the upload page."""
import csv
import datetime as dt
import io
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from budgets.models import BudgetExecution, Role
from budgets.services import membership_grant
from kpi.importers.actuals import ACTUALS_COLUMNS, EXECUTION_COLUMNS, ActualsImportError, actuals_import
from kpi.models import Actual, Report, Score
from kpi.reports.services import actual_record, report_submit
from kpi.rescoring.services import tables_rescore
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UnitYearFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
JULY = dt.date(2026, 7, 31)
ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=100人次", Decimal("40")),
    ("产出指标", "质量指标", "合格率", ">=95%", Decimal("20")),
    ("成本指标", "经济成本指标", "人均成本", "<=50元/人", Decimal("20")),
    ("产出指标", "时效指标", "完成时间", "2026年12月31日", Decimal("10")),  # deadline → 直接赋分
    ("效益指标", "社会效益指标", "社会效益", "有效提升", Decimal("10")),  # 定性 → 按评判等级赋分
]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def world():
    unit = UnitFactory(code="U9001", name="市教育局")
    project = ProjectFactory(unit=unit, name="教师培训项目", budget_initial=Decimal("100.00"))
    table, indicators = table_with_indicators(project, rows=ROWS)
    return SimpleNamespace(unit=unit, project=project, table=table, by_name={i.name: i for i in indicators})


def csv_bytes(rows, *, header=ACTUALS_COLUMNS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, *, header=ACTUALS_COLUMNS, formats=None) -> bytes:
    """A workbook whose first sheet holds the rows as typed in Excel (dates, numbers, TRUE/FALSE as cells)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for ref, number_format in (formats or {}).items():
        sheet[ref].number_format = number_format
    workbook.create_sheet("说明").append(["这一页不读取"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(world, data, *, filename="实际完成值.csv", **kwargs):
    return actuals_import(unit=world.unit, year=2026, rows_source=data, filename=filename, **kwargs)


def standing(indicator):
    return Actual.objects.filter(indicator=indicator).order_by("-id").first()


FULL_FILE = [
    ("教师培训项目", "培训人次", "2026-07-31", "1,234", "", "", ""),
    ("教师培训项目", "合格率", "2026/7/31", "96.5%", "", "", ""),
    ("教师培训项目", "人均成本", "2026年7月31日", "４８．５", "", "", ""),  # full-width digits
    ("教师培训项目", "完成时间", "2026-07-31", "否", "", "", "进度滞后"),
    ("教师培训项目", "社会效益", "2026-07-31", "", "达成年度指标", "9", ""),
]


# --- reading files ------------------------------------------------------------------------------

def test_csv_with_numbers_yes_no_and_grades_is_recorded_as_drafts(world):
    result = run(world, csv_bytes(FULL_FILE))
    assert (result.rows, result.recorded, result.unchanged, result.reports_approved) == (5, 5, 0, 0)
    assert "读取 5 行" in result.summary and "记录实际完成值 5 条" in result.summary
    ind = world.by_name
    assert standing(ind["培训人次"]).value == Decimal("1234")
    assert standing(ind["合格率"]).value == Decimal("96.5")
    assert standing(ind["人均成本"]).value == Decimal("48.5")
    deadline = standing(ind["完成时间"])
    assert deadline.met is False and deadline.value is None and deadline.deviation_reason == "进度滞后"
    graded = standing(ind["社会效益"])
    assert (graded.grade, graded.points, graded.value) == ("达成年度指标", Decimal("9"), None)
    reports = list(Report.objects.filter(table=world.table))
    assert len(reports) == 1 and reports[0].status == Report.Status.DRAFT and reports[0].as_of == JULY
    assert {a.as_of for a in Actual.objects.all()} == {JULY}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_detected(world, encoding):
    data = csv_bytes(FULL_FILE, encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    if encoding == "utf-8-sig":
        assert data.startswith(b"\xef\xbb\xbf")
    assert run(world, data).recorded == 5
    assert standing(world.by_name["社会效益"]).grade == "达成年度指标"


def test_xlsx_first_sheet_with_excel_dates_numbers_percent_cells_and_booleans(world):
    rows = [
        ("教师培训项目", "培训人次", dt.datetime(2026, 7, 31), 120, None, None, None),
        ("教师培训项目", "合格率", dt.datetime(2026, 7, 31), 0.965, None, None, None),  # shown as 96.5%
        ("教师培训项目", "人均成本", "2026/7/31", 0.1 + 0.2, None, None, None),  # float noise of a formula
        ("教师培训项目", "完成时间", (JULY - dt.date(1899, 12, 30)).days, True, None, None, None),  # a serial day
        ("教师培训项目", "社会效益", dt.datetime(2026, 7, 31), None, "部分达成年度指标并具有一定效果", 7, "效果待评估"),
    ]
    result = run(world, xlsx_bytes(rows, formats={"D3": "0.0%"}), filename="实际完成值.xlsx")
    assert result.recorded == 5
    ind = world.by_name
    assert standing(ind["培训人次"]).value == Decimal("120")
    assert standing(ind["合格率"]).value == Decimal("96.5")
    assert standing(ind["人均成本"]).value == Decimal("0.3")
    assert standing(ind["完成时间"]).met is True
    assert standing(ind["社会效益"]).points == Decimal("7")
    assert {a.as_of for a in Actual.objects.all()} == {JULY}


@pytest.mark.parametrize("text", ["2026-07-31", "2026/7/31", "2026年7月31日", "2026.7.31", "２０２６年７月３１日",
                                  "2026-07-31 00:00:00", str((JULY - dt.date(1899, 12, 30)).days)])
def test_date_forms(world, text):
    run(world, csv_bytes([("教师培训项目", "培训人次", text, "80", "", "", "")]))
    assert standing(world.by_name["培训人次"]).as_of == JULY


def test_yes_no_words_and_header_with_unit_note(world):
    header = ("项目名称", "三级指标", "截至日期", "实际完成值（人次）", "等级", "得分", "偏差原因", "备注")
    for word, met in (("Y", True), ("未达成", False), ("达成", True), ("n", False)):
        run(world, csv_bytes([("教师培训项目", "完成时间", "2026-07-31", word, "", "", "", "随便写")], header=header))
        assert standing(world.by_name["完成时间"]).met is met


def test_a_file_without_the_grade_columns_is_accepted(world):
    header = ("项目名称", "三级指标", "截至日期", "实际完成值")
    assert run(world, csv_bytes([("教师培训项目", "培训人次", "2026-07-31", "80人次")], header=header)).recorded == 1


# --- refusals: all or nothing -----------------------------------------------------------------

def test_a_file_with_errors_is_refused_whole_with_every_error_by_row_number(world):
    rows = [
        ("教师培训项目", "培训人次", "2026-07-31", "80", "", "", ""),  # row 2: valid
        ("不存在的项目", "培训人次", "2026-07-31", "80", "", "", ""),  # 3: unknown project
        ("教师培训项目", "不存在的指标", "2026-07-31", "80", "", "", ""),  # 4: unknown indicator
        ("教师培训项目", "合格率", "2025-12-31", "96", "", "", ""),  # 5: outside the year
        ("教师培训项目", "人均成本", "2026-07-31", "四十八", "", "", ""),  # 6: not a number
        ("教师培训项目", "完成时间", "2026-07-31", "也许", "", "", ""),  # 7: not 是/否
        ("教师培训项目", "社会效益", "2026-07-31", "", "达成年度指标", "1", ""),  # 8: the engine refuses
        ("教师培训项目", "培训人次", "7月底", "80", "", "", ""),  # 9: a date it cannot read
        ("教师培训项目", "培训人次", "2026-07-31", "90", "", "", ""),  # 10: same indicator and date as row 2
        ("教师培训项目", "培训人次", "2026-06-30", "50%", "", "", ""),  # 11: % on a count
        ("教师培训项目", "合格率", "2026-06-30", "是", "", "", ""),  # 12: 是 for a number
    ]
    with pytest.raises(ActualsImportError) as caught:
        run(world, csv_bytes(rows))
    errors = caught.value.errors
    for number in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12):
        assert any(e.startswith(f"第 {number} 行：") for e in errors), (number, errors)
    assert not any(e.startswith("第 2 行") for e in errors)
    assert [int(e.split(" ")[1]) for e in errors] == sorted(int(e.split(" ")[1]) for e in errors)
    text = "\n".join(errors)
    assert "不存在的项目" in text and "不存在的指标" in text and "不在 2026 年度内" in text
    assert "超出等级" in text and "与第 2 行" in text and "百分号" in text
    assert Actual.objects.count() == 0 and Report.objects.count() == 0


def test_missing_column_and_empty_file_are_refused(world):
    with pytest.raises(ActualsImportError) as caught:
        run(world, csv_bytes([("教师培训项目", "培训人次", "2026-07-31")], header=("项目名称", "三级指标", "截至日期")))
    assert "缺少必需的列 实际完成值" in caught.value.errors[0]
    with pytest.raises(ActualsImportError, match="没有数据行"):
        run(world, csv_bytes([]))
    with pytest.raises(ActualsImportError, match=".csv 或 .xlsx"):
        run(world, b"abc", filename="actuals.pdf")
    with pytest.raises(ActualsImportError, match="Excel"):
        run(world, b"not a zip", filename="actuals.xlsx")


def test_an_ambiguous_indicator_name_is_refused_and_may_be_written_with_its_level(world):
    project = ProjectFactory(unit=world.unit, name="校舍维修项目")
    table, _ = table_with_indicators(project, rows=[
        ("产出指标", "数量指标", "维修面积", ">=100平方米", Decimal("40")),
        ("产出指标", "质量指标", "维修面积", ">=95%", Decimal("40")),
    ])
    with pytest.raises(ActualsImportError) as caught:
        run(world, csv_bytes([("校舍维修项目", "维修面积", "2026-07-31", "120", "", "", "")]))
    assert "第 2 行：" in caught.value.errors[0] and "无法确定" in caught.value.errors[0]
    run(world, csv_bytes([("校舍维修项目", "质量指标/维修面积", "2026-07-31", "96%", "", "", "")]))
    assert Actual.objects.get().indicator.level2 == "质量指标"


def test_a_closed_year_is_refused(world):
    UnitYearFactory(unit=world.unit, year=2026)
    for execution in (False, True):
        data = csv_bytes([("教师培训项目", "2026-07-31", "", "10")], header=EXECUTION_COLUMNS) if execution \
            else csv_bytes(FULL_FILE)
        with pytest.raises(ActualsImportError) as caught:
            run(world, data, execution=execution)
        assert "已关账" in caught.value.errors[0]
    assert Actual.objects.count() == 0 and BudgetExecution.objects.count() == 0


def test_a_submitted_report_takes_no_changed_value(world):
    indicator = world.by_name["培训人次"]
    actual_record(indicator=indicator, as_of=JULY, value=Decimal("80"))
    report_submit(report=Report.objects.get())
    with pytest.raises(ActualsImportError, match="等待审核"):
        run(world, csv_bytes([("教师培训项目", "培训人次", "2026-07-31", "90", "", "", "")]))
    # the same value again is no change at all
    assert run(world, csv_bytes([("教师培训项目", "培训人次", "2026-07-31", "80", "", "", "")])).unchanged == 1
    assert Actual.objects.count() == 1


# --- re-import, corrections, approval ------------------------------------------------------------

def test_reimporting_the_same_file_records_nothing_new(world):
    data = csv_bytes(FULL_FILE)
    run(world, data)
    again = run(world, data)
    assert (again.recorded, again.unchanged) == (0, 5)
    assert Actual.objects.count() == 5 and Report.objects.count() == 1


def test_a_changed_value_is_a_correction_of_the_standing_actual(world):
    indicator = world.by_name["培训人次"]
    run(world, csv_bytes(FULL_FILE), approve=True)
    first = standing(indicator)
    approved = first.report
    assert approved.status == Report.Status.APPROVED

    changed = [("教师培训项目", "培训人次", "2026-07-31", "1300", "", "", "")] + FULL_FILE[1:]
    result = run(world, csv_bytes(changed))
    assert (result.recorded, result.unchanged) == (1, 4)
    correction = standing(indicator)
    assert correction.value == Decimal("1300") and correction.replaces == first
    assert correction.report.status == Report.Status.DRAFT and correction.report.replaces == approved

    # changed again while still in draft: corrects the draft's value, in the same draft
    changed[0] = ("教师培训项目", "培训人次", "2026-07-31", "1310", "", "", "")
    run(world, csv_bytes(changed))
    latest = standing(indicator)
    assert latest.replaces == correction and latest.report == correction.report


def test_approve_makes_official_scores(world):
    user = UserFactory()
    result = run(world, csv_bytes(FULL_FILE), approve=True, user=user)
    assert result.reports_approved == 1 and "审核通过填报 1 份" in result.summary
    report = Report.objects.get()
    assert report.status == Report.Status.APPROVED and report.reviewed_by == user and report.submitted_by == user
    tables_rescore(table_ids=[world.table.pk])
    official = Score.objects.filter(table=world.table, as_of=JULY, official=True)
    assert official.count() == 5
    assert official.get(indicator=world.by_name["完成时间"]).points == Decimal("0.00")
    assert official.get(indicator=world.by_name["社会效益"]).points == Decimal("9.00")


def test_approve_on_a_reimport_approves_the_drafts_it_matches(world):
    run(world, csv_bytes(FULL_FILE))
    result = run(world, csv_bytes(FULL_FILE), approve=True)
    assert (result.recorded, result.unchanged, result.reports_approved) == (0, 5, 1)
    assert Report.objects.get().status == Report.Status.APPROVED
    assert run(world, csv_bytes(FULL_FILE), approve=True).reports_approved == 0


# --- budget execution ----------------------------------------------------------------------------

def test_execution_rows_with_an_adjusted_budget(world):
    rows = [
        ("教师培训项目", "2026-06-30", "", "40"),
        ("教师培训项目", "2026年7月31日", "120", "55.5"),
    ]
    result = run(world, csv_bytes(rows, header=EXECUTION_COLUMNS), execution=True)
    assert (result.rows, result.recorded, result.unchanged, result.budgets_adjusted) == (2, 2, 0, 1)
    assert "记录执行数 2 条" in result.summary and "调整全年预算数 1 个项目" in result.summary
    executions = list(BudgetExecution.objects.filter(project=world.project).order_by("as_of"))
    assert [(e.as_of, e.executed) for e in executions] == [(dt.date(2026, 6, 30), Decimal("40")), (JULY, Decimal("55.5"))]
    world.project.refresh_from_db()
    assert world.project.budget_adjusted == Decimal("120") and world.project.adjustment_reason

    again = run(world, csv_bytes(rows, header=EXECUTION_COLUMNS), execution=True)
    assert (again.recorded, again.unchanged, again.budgets_adjusted) == (0, 2, 0)
    assert BudgetExecution.objects.count() == 2

    rows[1] = ("教师培训项目", "2026-07-31", "120", "60")
    assert run(world, csv_bytes(rows, header=EXECUTION_COLUMNS), execution=True).recorded == 1
    latest = BudgetExecution.objects.filter(project=world.project, as_of=JULY).order_by("-id").first()
    assert latest.executed == Decimal("60") and BudgetExecution.objects.count() == 3

    tables_rescore(table_ids=[world.table.pk])
    from kpi.models import TableScore
    total = TableScore.objects.get(table=world.table, as_of=JULY, official=True)
    assert total.budget == Decimal("120") and total.executed == Decimal("60")


def test_execution_errors_are_listed_and_nothing_is_written(world):
    rows = [
        ("教师培训项目", "2026-06-30", "150", "40"),
        ("别的项目", "2026-07-31", "", "50"),
        ("教师培训项目", "2026-08-31", "", ""),
        ("教师培训项目", "2026-09-30", "-5", "1,234.567"),
    ]
    with pytest.raises(ActualsImportError) as caught:
        run(world, csv_bytes(rows, header=EXECUTION_COLUMNS), execution=True)
    errors = caught.value.errors
    assert any(e.startswith("第 3 行：") and "别的项目" in e for e in errors)
    assert any(e.startswith("第 4 行：") and "执行数为空" in e for e in errors)
    assert any(e.startswith("第 5 行：") and "负数" in e for e in errors)
    assert BudgetExecution.objects.count() == 0
    world.project.refresh_from_db()
    assert world.project.budget_adjusted is None


# --- the command ---------------------------------------------------------------------------------

def test_command_by_unit_name_or_code(world, tmp_path):
    path = tmp_path / "actuals.csv"
    path.write_bytes(csv_bytes(FULL_FILE))
    out = io.StringIO()
    call_command("import_actuals", str(path), "--unit", "市教育局", "--year", "2026", stdout=out)
    assert out.getvalue().strip().startswith("读取 5 行") and "\n" not in out.getvalue().strip()
    out = io.StringIO()
    call_command("import_actuals", str(path), "--unit", "U9001", "--year", "2026", "--approve", stdout=out)
    assert "未变化 5 条" in out.getvalue() and "审核通过填报 1 份" in out.getvalue()
    report = Report.objects.get()
    assert report.status == Report.Status.APPROVED and report.reviewed_by is None


def test_command_execution(world, tmp_path):
    path = tmp_path / "execution.xlsx"
    path.write_bytes(xlsx_bytes([("教师培训项目", dt.datetime(2026, 7, 31), 120, 55.5)], header=EXECUTION_COLUMNS))
    out = io.StringIO()
    call_command("import_actuals", str(path), "--unit", "U9001", "--year", "2026", "--execution", stdout=out)
    assert "记录执行数 1 条" in out.getvalue()
    assert BudgetExecution.objects.get().executed == Decimal("55.5")


def test_command_refuses_an_unknown_unit_and_lists_every_error(world, tmp_path):
    path = tmp_path / "actuals.csv"
    path.write_bytes(csv_bytes(FULL_FILE))
    with pytest.raises(CommandError, match="找不到预算单位“不存在的局”"):
        call_command("import_actuals", str(path), "--unit", "不存在的局", "--year", "2026")
    path.write_bytes(csv_bytes([("不存在的项目", "培训人次", "2026-07-31", "80", "", "", ""),
                                ("教师培训项目", "培训人次", "2027-01-31", "80", "", "", "")]))
    with pytest.raises(CommandError) as caught:
        call_command("import_actuals", str(path), "--unit", "U9001", "--year", "2026")
    message = str(caught.value)
    assert "2 处错误" in message and "第 2 行：" in message and "第 3 行：" in message
    assert Actual.objects.count() == 0


# --- the page ------------------------------------------------------------------------------------

def admin_of(unit):
    user = UserFactory()
    membership_grant(user=user, unit=unit, role=Role.ADMIN)
    return user


def post(client, world, data, *, filename="实际完成值.csv", **fields):
    form = {"unit": world.unit.pk, "year": 2026, "kind": "actuals",
            "file": SimpleUploadedFile(filename, data, content_type="text/csv"), **fields}
    return client.post(reverse("importers:actuals"), form)


def test_page_is_for_unit_administrators_only(client, world):
    lead = UserFactory()
    membership_grant(user=lead, unit=world.unit, role=Role.LEAD)
    client.force_login(lead)
    assert client.get(reverse("importers:actuals")).status_code == 403
    assert post(client, world, csv_bytes(FULL_FILE)).status_code == 403
    assert client.get(reverse("importers:actuals-template")).status_code == 403
    assert Actual.objects.count() == 0


def test_page_imports_for_an_administrator(client, world):
    other_unit = UnitFactory(name="别的单位")
    user = admin_of(world.unit)
    client.force_login(user)
    page = client.get(reverse("importers:actuals")).content.decode()
    assert "市教育局" in page and "别的单位" not in page
    response = post(client, world, csv_bytes(FULL_FILE, encoding="gb18030"), approve="on")
    assert response.status_code == 200
    assert "读取 5 行" in response.content.decode()
    report = Report.objects.get()
    assert report.status == Report.Status.APPROVED and report.reviewed_by == user
    assert Actual.objects.filter(recorded_by=user).count() == 5
    # a unit the user does not administer is not a choice
    response = post(client, world, csv_bytes(FULL_FILE), unit=other_unit.pk)
    assert "选择一个有效的选项" in response.content.decode()


def test_page_execution_from_xlsx(client, world):
    client.force_login(admin_of(world.unit))
    data = xlsx_bytes([("教师培训项目", dt.datetime(2026, 7, 31), 100, 30)], header=EXECUTION_COLUMNS)
    response = post(client, world, data, filename="执行.xlsx", kind="execution")
    assert "记录执行数 1 条" in response.content.decode()
    assert BudgetExecution.objects.get().recorded_by is not None


def test_page_shows_every_error_and_keeps_the_form(client, world):
    client.force_login(admin_of(world.unit))
    rows = [("不存在的项目", "培训人次", "2026-07-31", "80", "", "", ""),
            ("教师培训项目", "合格率", "2026-07-31", "很好", "", "", "")]
    response = post(client, world, csv_bytes(rows), year=2026, approve="on")
    page = response.content.decode()
    assert response.status_code == 200
    assert "第 2 行：" in page and "第 3 行：" in page and "未写入任何数据" in page
    assert 'value="2026"' in page
    assert re.search(r'<input type="checkbox" name="approve"[^>]* checked', page)
    assert Actual.objects.count() == 0


def test_page_refuses_other_files_and_oversized_ones(client, world, settings):
    client.force_login(admin_of(world.unit))
    assert "只接受 .csv 或 .xlsx" in post(client, world, b"x", filename="a.pdf").content.decode()
    settings.UPLOAD_MAX_BYTES = 10
    assert "文件过大" in post(client, world, csv_bytes(FULL_FILE)).content.decode()


@pytest.mark.parametrize("kind, columns", [("actuals", ACTUALS_COLUMNS), ("execution", EXECUTION_COLUMNS)])
def test_csv_templates(client, world, kind, columns):
    client.force_login(admin_of(world.unit))
    response = client.get(reverse("importers:actuals-template"), {"kind": kind})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content.decode("utf-8-sig").strip() == ",".join(columns)
    assert client.get(reverse("importers:actuals-template"), {"kind": "other"}).status_code == 404
