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
# The seven columns of files written before the monitoring columns were added: still read.
OLD_COLUMNS = ("项目名称", "三级指标", "截至日期", "实际完成值", "等级", "得分", "偏差原因")
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


def csv_bytes(rows, *, header=OLD_COLUMNS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, *, header=OLD_COLUMNS, formats=None) -> bytes:
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


def line(project, name, as_of, value, grade="", points="", category="", reason="", likelihood="", forecast="",
         rectify="", measures=""):
    """A row in the order of ACTUALS_COLUMNS."""
    return (project, name, as_of, value, grade, points, category, reason, likelihood, forecast, rectify, measures)


FULL_FILE = [
    line("教师培训项目", "培训人次", "2026-07-31", "1,234"),
    line("教师培训项目", "合格率", "2026/7/31", "96.5%"),
    line("教师培训项目", "人均成本", "2026年7月31日", "４８．５"),  # full-width digits
    # 未达成 is a red light: its reason and the reason's category are required, as on the report page
    line("教师培训项目", "完成时间", "2026-07-31", "否", category="人员保障", reason="进度滞后", likelihood="有可能",
         rectify="是", measures="增派人员"),
    line("教师培训项目", "社会效益", "2026-07-31", "", "达成年度指标", "9"),
]


def full_file(**kwargs) -> bytes:
    return csv_bytes(FULL_FILE, header=ACTUALS_COLUMNS, **kwargs)


# --- reading files ------------------------------------------------------------------------------

def test_csv_with_numbers_yes_no_and_grades_is_recorded_as_drafts(world):
    result = run(world, full_file())
    assert (result.rows, result.recorded, result.unchanged, result.reports_approved) == (5, 5, 0, 0)
    assert "读取 5 行" in result.summary and "记录实际完成值 5 条" in result.summary
    ind = world.by_name
    assert standing(ind["培训人次"]).value == Decimal("1234")
    assert standing(ind["合格率"]).value == Decimal("96.5")
    assert standing(ind["人均成本"]).value == Decimal("48.5")
    deadline = standing(ind["完成时间"])
    assert deadline.met is False and deadline.value is None and deadline.deviation_reason == "进度滞后"
    assert (deadline.deviation_category, deadline.likelihood, deadline.needs_rectification,
            deadline.rectification_measures) == ("人员保障", "有可能", True, "增派人员")
    graded = standing(ind["社会效益"])
    assert (graded.grade, graded.points, graded.value) == ("达成年度指标", Decimal("9"), None)
    reports = list(Report.objects.filter(table=world.table))
    assert len(reports) == 1 and reports[0].status == Report.Status.DRAFT and reports[0].as_of == JULY
    assert {a.as_of for a in Actual.objects.all()} == {JULY}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_detected(world, encoding):
    data = full_file(encoding=encoding)
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
        ("教师培训项目", "社会效益", dt.datetime(2026, 7, 31), None, "部分达成年度指标并具有一定效果", 7, "效果待评估",
         "制度保障"),  # 部分达成 is a yellow light: reason and category
    ]
    header = (*OLD_COLUMNS, "偏差原因类别")
    result = run(world, xlsx_bytes(rows, header=header, formats={"D3": "0.0%"}), filename="实际完成值.xlsx")
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
    header = ("项目名称", "三级指标", "截至日期", "实际完成值（人次）", "等级", "得分", "偏差原因", "偏差原因类别", "备注")
    for word, met in (("Y", True), ("未达成", False), ("达成", True), ("n", False)):
        run(world, csv_bytes([("教师培训项目", "完成时间", "2026-07-31", word, "", "", "滞后", "其他", "随便写")],
                             header=header))
        assert standing(world.by_name["完成时间"]).met is met


def test_a_file_without_the_grade_columns_is_accepted(world):
    header = ("项目名称", "三级指标", "截至日期", "实际完成值")
    assert run(world, csv_bytes([("教师培训项目", "培训人次", "2026-07-31", "80人次")], header=header)).recorded == 1


# --- refusals: all or nothing -----------------------------------------------------------------

def starts(errors, number) -> bool:
    return any(re.match(rf"第 {number} 行[：（]", e) for e in errors)


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
        assert starts(errors, number), (number, errors)
    assert not starts(errors, 2)
    # each error names its column
    assert "第 3 行（项目名称）：找不到项目“不存在的项目”" in "\n".join(errors)
    assert any(e.startswith("第 5 行（截至日期）：") for e in errors)
    assert any(e.startswith("第 6 行（实际完成值）：") for e in errors)
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
    assert "第 2 行（三级指标）：" in caught.value.errors[0] and "无法确定" in caught.value.errors[0]
    run(world, csv_bytes([("校舍维修项目", "质量指标/维修面积", "2026-07-31", "96%", "", "", "")]))
    assert Actual.objects.get().indicator.level2 == "质量指标"


def test_a_closed_year_is_refused(world):
    UnitYearFactory(unit=world.unit, year=2026)
    for execution in (False, True):
        data = csv_bytes([("教师培训项目", "2026-07-31", "", "10")], header=EXECUTION_COLUMNS[:4]) if execution \
            else full_file()
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
    data = full_file()
    run(world, data)
    again = run(world, data)
    assert (again.recorded, again.unchanged) == (0, 5)
    assert Actual.objects.count() == 5 and Report.objects.count() == 1


def test_a_changed_value_is_a_correction_of_the_standing_actual(world):
    indicator = world.by_name["培训人次"]
    run(world, full_file(), approve=True)
    first = standing(indicator)
    approved = first.report
    assert approved.status == Report.Status.APPROVED

    changed = [line("教师培训项目", "培训人次", "2026-07-31", "1300")] + FULL_FILE[1:]
    result = run(world, csv_bytes(changed, header=ACTUALS_COLUMNS))
    assert (result.recorded, result.unchanged) == (1, 4)
    correction = standing(indicator)
    assert correction.value == Decimal("1300") and correction.replaces == first
    assert correction.report.status == Report.Status.DRAFT and correction.report.replaces == approved

    # changed again while still in draft: corrects the draft's value, in the same draft
    changed[0] = line("教师培训项目", "培训人次", "2026-07-31", "1310")
    run(world, csv_bytes(changed, header=ACTUALS_COLUMNS))
    latest = standing(indicator)
    assert latest.replaces == correction and latest.report == correction.report


def test_approve_makes_official_scores(world):
    user = UserFactory()
    result = run(world, full_file(), approve=True, user=user)
    assert result.reports_approved == 1 and "审核通过填报 1 份" in result.summary
    report = Report.objects.get()
    assert report.status == Report.Status.APPROVED and report.reviewed_by == user and report.submitted_by == user
    tables_rescore(table_ids=[world.table.pk])
    official = Score.objects.filter(table=world.table, as_of=JULY, official=True)
    assert official.count() == 5
    assert official.get(indicator=world.by_name["完成时间"]).points == Decimal("0.00")
    assert official.get(indicator=world.by_name["社会效益"]).points == Decimal("9.00")


def test_approve_on_a_reimport_approves_the_drafts_it_matches(world):
    run(world, full_file())
    result = run(world, full_file(), approve=True)
    assert (result.recorded, result.unchanged, result.reports_approved) == (0, 5, 1)
    assert Report.objects.get().status == Report.Status.APPROVED
    assert run(world, full_file(), approve=True).reports_approved == 0


# --- budget execution ----------------------------------------------------------------------------

def test_execution_rows_with_an_adjusted_budget(world):
    rows = [
        ("教师培训项目", "2026-06-30", "", "40"),
        ("教师培训项目", "2026年7月31日", "120", "55.5"),
    ]
    result = run(world, csv_bytes(rows, header=EXECUTION_COLUMNS[:4]), execution=True)
    assert (result.rows, result.recorded, result.unchanged, result.budgets_adjusted) == (2, 2, 0, 1)
    assert "记录执行数 2 条" in result.summary and "调整全年预算数 1 个项目" in result.summary
    executions = list(BudgetExecution.objects.filter(project=world.project).order_by("as_of"))
    assert [(e.as_of, e.executed) for e in executions] == [(dt.date(2026, 6, 30), Decimal("40")), (JULY, Decimal("55.5"))]
    world.project.refresh_from_db()
    assert world.project.budget_adjusted == Decimal("120") and world.project.adjustment_reason

    again = run(world, csv_bytes(rows, header=EXECUTION_COLUMNS[:4]), execution=True)
    assert (again.recorded, again.unchanged, again.budgets_adjusted) == (0, 2, 0)
    assert BudgetExecution.objects.count() == 2

    rows[1] = ("教师培训项目", "2026-07-31", "120", "60")
    assert run(world, csv_bytes(rows, header=EXECUTION_COLUMNS[:4]), execution=True).recorded == 1
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
        ("教师培训项目", "2026-08-31", "100", ""),
        ("教师培训项目", "2026-09-30", "-5", "1,234.567"),
    ]
    with pytest.raises(ActualsImportError) as caught:
        run(world, csv_bytes(rows, header=EXECUTION_COLUMNS[:4]), execution=True)
    errors = caught.value.errors
    assert any(e.startswith("第 3 行（项目名称）：") and "别的项目" in e for e in errors)
    assert any(e.startswith("第 4 行（执行数）：") and "执行数为空" in e for e in errors)
    assert any(e.startswith("第 5 行（全年预算数）：") and "负数" in e for e in errors)
    assert BudgetExecution.objects.count() == 0
    world.project.refresh_from_db()
    assert world.project.budget_adjusted is None


# --- the command ---------------------------------------------------------------------------------

def test_command_by_unit_name_or_code(world, tmp_path):
    path = tmp_path / "actuals.csv"
    path.write_bytes(full_file())
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
    path.write_bytes(xlsx_bytes([("教师培训项目", dt.datetime(2026, 7, 31), 120, 55.5)], header=EXECUTION_COLUMNS[:4]))
    out = io.StringIO()
    call_command("import_actuals", str(path), "--unit", "U9001", "--year", "2026", "--execution", stdout=out)
    assert "记录执行数 1 条" in out.getvalue()
    assert BudgetExecution.objects.get().executed == Decimal("55.5")


def test_command_refuses_an_unknown_unit_and_lists_every_error(world, tmp_path):
    path = tmp_path / "actuals.csv"
    path.write_bytes(full_file())
    with pytest.raises(CommandError, match="找不到预算单位“不存在的局”"):
        call_command("import_actuals", str(path), "--unit", "不存在的局", "--year", "2026")
    path.write_bytes(csv_bytes([("不存在的项目", "培训人次", "2026-07-31", "80", "", "", ""),
                                ("教师培训项目", "培训人次", "2027-01-31", "80", "", "", "")]))
    with pytest.raises(CommandError) as caught:
        call_command("import_actuals", str(path), "--unit", "U9001", "--year", "2026")
    message = str(caught.value)
    assert "2 处错误" in message and "第 2 行（项目名称）：" in message and "第 3 行（截至日期）：" in message
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
    assert post(client, world, full_file()).status_code == 403
    assert client.get(reverse("importers:actuals-template")).status_code == 403
    assert Actual.objects.count() == 0


def test_page_imports_for_an_administrator(client, world):
    other_unit = UnitFactory(name="别的单位")
    user = admin_of(world.unit)
    client.force_login(user)
    page = client.get(reverse("importers:actuals")).content.decode()
    assert "市教育局" in page and "别的单位" not in page
    response = post(client, world, full_file(encoding="gb18030"), approve="on")
    assert response.status_code == 200
    assert "读取 5 行" in response.content.decode()
    report = Report.objects.get()
    assert report.status == Report.Status.APPROVED and report.reviewed_by == user
    assert Actual.objects.filter(recorded_by=user).count() == 5
    # a unit the user does not administer is not a choice
    response = post(client, world, full_file(), unit=other_unit.pk)
    assert "选择一个有效的选项" in response.content.decode()


def test_page_execution_from_xlsx(client, world):
    client.force_login(admin_of(world.unit))
    data = xlsx_bytes([("教师培训项目", dt.datetime(2026, 7, 31), 100, 30)], header=EXECUTION_COLUMNS[:4])
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
    assert "第 2 行（项目名称）：" in page and "第 3 行（实际完成值）：" in page and "未写入任何数据" in page
    assert 'value="2026"' in page
    assert re.search(r'<input type="checkbox" name="approve"[^>]* checked', page)
    assert Actual.objects.count() == 0


def test_page_refuses_other_files_and_oversized_ones(client, world, settings):
    client.force_login(admin_of(world.unit))
    assert "只接受 .csv 或 .xlsx" in post(client, world, b"x", filename="a.pdf").content.decode()
    settings.UPLOAD_MAX_BYTES = 10
    assert "文件过大" in post(client, world, full_file()).content.decode()


@pytest.mark.parametrize("kind, columns", [("actuals", ACTUALS_COLUMNS), ("execution", EXECUTION_COLUMNS)])
def test_csv_templates(client, world, kind, columns):
    client.force_login(admin_of(world.unit))
    response = client.get(reverse("importers:actuals-template"), {"kind": kind})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content.decode("utf-8-sig").strip() == ",".join(columns)
    assert client.get(reverse("importers:actuals-template"), {"kind": "other"}).status_code == 404


# --- the report page's rules, exactly ------------------------------------------------------------

def test_a_red_value_without_a_deviation_reason_is_refused_as_the_report_page_refuses_it(world):
    """30 人次 of 100 by July is a red light: the report page asks for the reason and its category, and so does
    the import (the same kpi.entries.check_entry), each beside its column; nothing is written."""
    from kpi.entries import check_entry

    indicator = world.by_name["培训人次"]
    with pytest.raises(ActualsImportError) as caught:
        run(world, csv_bytes([line("教师培训项目", "培训人次", "2026-07-31", "30")], header=ACTUALS_COLUMNS))
    expected = check_entry(kind=indicator.target_kind, rule=indicator.rule, target=indicator.target,
                           target_value=indicator.target_value, weight=indicator.weight, unit=indicator.unit,
                           cumulative=True, month=7, value=Decimal("30"))
    assert set(expected.errors) == {"deviation_reason", "deviation_category"}
    assert caught.value.errors == [f"第 2 行（偏差原因）：{expected.errors['deviation_reason']}",
                                   f"第 2 行（偏差原因类别）：{expected.errors['deviation_category']}"]
    assert "红灯" in caught.value.errors[0]
    assert Actual.objects.count() == 0 and Report.objects.count() == 0

    # with them, it is taken; the lead can then submit the report
    run(world, csv_bytes([line("教师培训项目", "培训人次", "2026-07-31", "30", category="经费保障",
                               reason="资金下半年到位")], header=ACTUALS_COLUMNS))
    recorded = standing(indicator)
    assert (recorded.value, recorded.deviation_category, recorded.deviation_reason) == (
        Decimal("30"), "经费保障", "资金下半年到位")
    report_submit(report=recorded.report)


def test_values_that_cannot_be_true_are_refused_with_the_reason(world):
    rows = [
        line("教师培训项目", "合格率", "2026-07-31", "101"),  # a rate above 100
        line("教师培训项目", "合格率", "2026-06-30", "-1%"),  # below 0
        line("教师培训项目", "培训人次", "2026-07-31", "-5"),  # a negative count
        line("教师培训项目", "培训人次", "2026-06-30", "120", forecast="-1"),  # a negative forecast
    ]
    with pytest.raises(ActualsImportError) as caught:
        run(world, csv_bytes(rows, header=ACTUALS_COLUMNS))
    errors = caught.value.errors
    assert errors[0].startswith("第 2 行（实际完成值）：") and "不能超过 100%" in errors[0]
    assert errors[1].startswith("第 3 行（实际完成值）：") and "不能为负数" in errors[1]
    assert errors[2].startswith("第 4 行（实际完成值）：") and "不能为负数" in errors[2]
    assert errors[3].startswith("第 5 行（全年预计完成值）：") and "不能为负数" in errors[3]
    assert Actual.objects.count() == 0


def test_wan_is_read_in_the_indicators_unit_with_a_note(world, client):
    project = ProjectFactory(unit=world.unit, name="就业服务项目")
    table_with_indicators(project, rows=[
        ("产出指标", "数量指标", "服务人数（万人）", ">=3万人", Decimal("45")),
        ("产出指标", "数量指标", "培训人数", ">=500人", Decimal("45")),
    ])
    rows = [line("就业服务项目", "服务人数（万人）", "2026-07-31", "3.1万"),
            line("就业服务项目", "培训人数", "2026-07-31", "3.1万")]
    result = run(world, csv_bytes(rows, header=ACTUALS_COLUMNS))
    values = {a.indicator.name: a.value for a in Actual.objects.select_related("indicator")}
    assert values == {"服务人数（万人）": Decimal("3.1"), "培训人数": Decimal("31000")}
    assert result.notes == ["第 2 行（实际完成值）：“3.1万”已按 3.1万人 读取。",
                            "第 3 行（实际完成值）：“3.1万”已按 31000人 读取。"]
    # the page shows the notes under the summary
    Actual.objects.all().delete()
    Report.objects.all().delete()
    client.force_login(admin_of(world.unit))
    page = post(client, world, csv_bytes(rows, header=ACTUALS_COLUMNS)).content.decode()
    assert "“3.1万”已按 31000人 读取" in page


def test_the_monitoring_columns_are_recorded_and_checked(world):
    rows = [line("教师培训项目", "培训人次", "2026-07-31", "50", category="其他", reason="报名延后", likelihood="有可能",
                 forecast="95", rectify="否")]
    run(world, csv_bytes(rows, header=ACTUALS_COLUMNS))
    recorded = standing(world.by_name["培训人次"])
    assert (recorded.forecast, recorded.likelihood, recorded.needs_rectification) == (Decimal("95"), "有可能", False)

    bad = [
        line("教师培训项目", "合格率", "2026-07-31", "96", category="天气"),  # not a category
        line("教师培训项目", "人均成本", "2026-07-31", "40", likelihood="大概"),  # not a likelihood
        line("教师培训项目", "合格率", "2026-06-30", "96", rectify="也许"),  # not 是/否
        line("教师培训项目", "人均成本", "2026-06-30", "40", rectify="是"),  # 整改 without its measures
        line("教师培训项目", "完成时间", "2026-07-31", "是", forecast="1"),  # a forecast of a yes/no indicator
        line("教师培训项目", "合格率", "2026-05-31", "", reason="说明"),  # a reason without the actual
        line("教师培训项目", "培训人次", "2026-05-31", "10", "达成年度指标", "9"),  # a grade for a number
    ]
    with pytest.raises(ActualsImportError) as caught:
        run(world, csv_bytes(bad, header=ACTUALS_COLUMNS))
    errors = caught.value.errors
    assert errors[0] == "第 2 行（偏差原因类别）：“天气”无法识别，应为以下之一：经费保障 / 制度保障 / 人员保障 / 硬件条件 / 其他。"
    assert errors[1].startswith("第 3 行（完成目标可能性）：") and "确定能 / 有可能 / 完全不可能" in errors[1]
    assert errors[2] == "第 4 行（是否需要整改）：“也许”无法识别，应填 是 或 否。"
    assert errors[3] == "第 5 行（整改措施）：需要整改时请填写整改措施。"
    assert errors[4].startswith("第 6 行（全年预计完成值）：")
    assert errors[5].startswith("第 7 行（实际完成值）：")
    assert starts(errors, 8) and "等级应留空" in "\n".join(errors)
    assert Actual.objects.count() == 1


def test_blank_rows_are_skipped_and_blank_optional_cells_keep_what_is_recorded(world):
    indicator = world.by_name["培训人次"]
    actual_record(indicator=indicator, as_of=JULY, value=Decimal("50"), deviation_category="经费保障",
                  deviation_reason="资金晚到", likelihood="有可能")
    rows = [
        line("教师培训项目", "培训人次", "2026-07-31", "50"),  # the same value, the reason left blank: unchanged
        line("教师培训项目", "合格率", "2026-07-31", ""),  # nothing reported this time
        line("教师培训项目", "人均成本", "", ""),
    ]
    result = run(world, csv_bytes(rows, header=ACTUALS_COLUMNS))
    assert (result.recorded, result.unchanged, result.skipped) == (0, 1, 2)
    assert "未填写而跳过 2 行" in result.summary
    assert Actual.objects.count() == 1

    # a new value with the reason left blank keeps the recorded reason (as the report page shows and keeps it)
    rows[0] = line("教师培训项目", "培训人次", "2026-07-31", "55")
    assert run(world, csv_bytes(rows, header=ACTUALS_COLUMNS)).recorded == 1
    correction = standing(indicator)
    assert (correction.value, correction.deviation_reason, correction.deviation_category, correction.likelihood) == (
        Decimal("55"), "资金晚到", "经费保障", "有可能")


def test_a_file_of_a_thousand_bad_rows_lists_every_error_with_its_row(world):
    # a red light with no reason on every day of the year, then rows of a project that does not exist
    rows = [line("教师培训项目", "培训人次", (dt.date(2026, 1, 1) + dt.timedelta(days=i % 365)).isoformat(), "0")
            for i in range(365)]
    rows += [line("不存在的项目", "培训人次", "2026-07-31", "1") for _ in range(635)]
    with pytest.raises(ActualsImportError) as caught:
        run(world, csv_bytes(rows, header=ACTUALS_COLUMNS))
    errors = caught.value.errors
    numbers = [int(e.split(" ")[1]) for e in errors]
    assert set(numbers) == set(range(2, 1002))  # every row, numbered as the spreadsheet numbers it
    assert numbers == sorted(numbers)
    assert errors[0] == "第 2 行（偏差原因）：该指标进度偏离目标（红灯），请填写偏差原因。"
    assert errors[-1] == "第 1001 行（项目名称）：找不到项目“不存在的项目”（市教育局 2026 年度）。"
    assert Actual.objects.count() == 0 and Report.objects.count() == 0


def test_the_unit_table_is_named_bumen_zhengti(world):
    unit_table, indicators = table_with_indicators(unit=world.unit, year=2026, rows=[
        ("履职效能", "数量指标", "培训人次", ">=1万人次", Decimal("90")),
    ])
    run(world, csv_bytes([line("部门整体", "培训人次", "2026-07-31", "0.7")], header=ACTUALS_COLUMNS))
    assert standing(indicators[0]).value == Decimal("0.7") and standing(indicators[0]).report.table == unit_table
    other = UnitFactory()
    with pytest.raises(ActualsImportError, match="没有部门整体绩效目标表"):
        actuals_import(unit=other, year=2026, filename="a.csv",
                       rows_source=csv_bytes([line("部门整体", "培训人次", "2026-07-31", "1")], header=ACTUALS_COLUMNS))


# --- budget execution per source -----------------------------------------------------------------

def test_execution_per_source_is_recorded_and_reimporting_changes_nothing(world):
    header = EXECUTION_COLUMNS
    assert header[4:] == ("本年财政拨款全年预算数", "上年结转全年预算数", "其他资金全年预算数",
                          "本年财政拨款执行数", "上年结转执行数", "其他资金执行数")
    rows = [
        # 全年预算数 left blank: the sum of its sources (120); a blank source counts as 0
        ("教师培训项目", "2026-07-31", "", "55.5", "90", "20", "10", "40", "15.5", ""),
        ("教师培训项目", "2026-06-30", "", "40", "", "", "", "", "", ""),  # no split given: none recorded
    ]
    data = csv_bytes(rows, header=header)
    result = run(world, data, execution=True)
    assert (result.recorded, result.budgets_adjusted) == (2, 1)
    world.project.refresh_from_db()
    assert (world.project.budget_adjusted, world.project.fiscal_adjusted, world.project.carryover_adjusted,
            world.project.other_adjusted) == (Decimal("120"), Decimal("90"), Decimal("20"), Decimal("10"))
    july = BudgetExecution.objects.get(project=world.project, as_of=JULY)
    assert (july.executed, july.fiscal, july.carryover, july.other) == (
        Decimal("55.5"), Decimal("40"), Decimal("15.5"), Decimal("0"))
    june = BudgetExecution.objects.get(project=world.project, as_of=dt.date(2026, 6, 30))
    assert (june.fiscal, june.carryover, june.other) == (None, None, None)

    again = run(world, data, execution=True)
    assert (again.recorded, again.unchanged, again.budgets_adjusted) == (0, 2, 0)
    assert BudgetExecution.objects.count() == 2

    # the split given later for the same figure is recorded (a correction naming the first)
    rows[1] = ("教师培训项目", "2026-06-30", "", "40", "", "", "", "30", "10", "")
    assert run(world, csv_bytes(rows, header=header), execution=True).recorded == 1
    latest = BudgetExecution.objects.filter(project=world.project, as_of=dt.date(2026, 6, 30)).order_by("-id").first()
    assert (latest.fiscal, latest.carryover, latest.replaces) == (Decimal("30"), Decimal("10"), june)


def test_execution_sources_that_do_not_add_up_are_refused_by_row(world):
    rows = [
        ("教师培训项目", "2026-07-31", "", "50", "", "", "", "30", "10", ""),  # 40 ≠ 50
        ("教师培训项目", "2026-06-30", "100", "20", "60", "30", "", "", "", ""),  # 90 ≠ 100
        ("教师培训项目", "2026-05-31", "", "20", "", "", "", "-1", "", ""),
    ]
    with pytest.raises(ActualsImportError) as caught:
        run(world, csv_bytes(rows, header=EXECUTION_COLUMNS), execution=True)
    errors = caught.value.errors
    assert any(e.startswith("第 2 行：") and "执行数合计 40" in e and "50" in e for e in errors), errors
    assert any(e.startswith("第 3 行：") and "全年预算数合计 90" in e for e in errors), errors
    assert any(e.startswith("第 4 行（本年财政拨款执行数）：") and "负数" in e for e in errors), errors
    assert BudgetExecution.objects.count() == 0
    world.project.refresh_from_db()
    assert world.project.budget_adjusted is None


def test_execution_for_the_unit_table_is_sent_to_its_report_page(world):
    with pytest.raises(ActualsImportError, match="部门整体的预算执行请在部门整体绩效目标表的填报页登记"):
        run(world, csv_bytes([("部门整体", "2026-07-31", "", "10")], header=EXECUTION_COLUMNS[:4]), execution=True)


def test_command_help_documents_the_columns():
    from kpi.management.commands.import_actuals import Command

    for column in (*ACTUALS_COLUMNS, *EXECUTION_COLUMNS):
        assert column in Command.help


# --- the filled templates ------------------------------------------------------------------------

def template_url(world, **params):
    query = {"template-unit": world.unit.pk, "template-year": 2026, "template-kind": "actuals",
             "template-format": "xlsx", **{f"template-{k}": v for k, v in params.items()}}
    return reverse("importers:actuals-filled-template") + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def sheet_rows(data: bytes):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    rows = [[c.value for c in row] for row in workbook.worksheets[0].iter_rows()]
    return workbook, rows


@pytest.fixture
def templated(world):
    """The world's project plus one whose two indicators share a name, one not applicable, a LaTeX target, the
    unit's own table, and a formula-like project name."""
    from kpi.goals.services import indicator_set_not_applicable

    twins = ProjectFactory(unit=world.unit, name="=校舍维修项目")
    _, twin_indicators = table_with_indicators(twins, rows=[
        ("产出指标", "数量指标", "维修面积", ">=100平方米", Decimal("40")),
        ("产出指标", "质量指标", "维修面积", "$\\geq 98\\%$", Decimal("40")),
        ("产出指标", "时效指标", "停用的指标", ">=1次", Decimal("10")),
    ])
    indicator_set_not_applicable(indicator=twin_indicators[2], not_applicable=True, reason="本年不开展")
    table_with_indicators(unit=world.unit, year=2026, rows=[("履职效能", "数量指标", "服务人次", ">=1万人次", Decimal("90"))])
    return world


def test_the_filled_template_lists_every_indicator_with_its_unit_and_target(client, templated,
                                                                            django_assert_num_queries):
    world = templated
    client.force_login(admin_of(world.unit))
    # Session and user 2, may import 1, the unit through the scoping 1, projects 1, tables 1, indicators 1.
    with django_assert_num_queries(7):
        response = client.get(template_url(world, as_of="2026-07-31"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert "%E5%AE%9E%E9%99%85%E5%AE%8C%E6%88%90%E5%80%BC%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx" in response[
        "Content-Disposition"]  # …实际完成值导入模板.xlsx
    workbook, rows = sheet_rows(response.content)
    assert workbook.sheetnames == ["实际完成值导入", "填写说明"]
    header, *body = rows
    assert tuple(header) == ("项目名称", "三级指标", "计量单位", "指标值", "填写说明", *ACTUALS_COLUMNS[2:])
    listed = [(r[0], r[1], r[2], r[3], r[5]) for r in body]
    assert listed == [
        ("部门整体", "服务人次", "万人次", "≥1万人次", dt.datetime(2026, 7, 31)),
        ("=校舍维修项目", "数量指标/维修面积", "平方米", "≥100平方米", dt.datetime(2026, 7, 31)),
        ("=校舍维修项目", "质量指标/维修面积", "%", "≥98%", dt.datetime(2026, 7, 31)),
        ("教师培训项目", "培训人次", "人次", "≥100人次", dt.datetime(2026, 7, 31)),
        ("教师培训项目", "合格率", "%", "≥95%", dt.datetime(2026, 7, 31)),
        ("教师培训项目", "人均成本", "元/人", "≤50元/人", dt.datetime(2026, 7, 31)),
        ("教师培训项目", "完成时间", None, "2026年12月31日", dt.datetime(2026, 7, 31)),
        ("教师培训项目", "社会效益", None, "有效提升", dt.datetime(2026, 7, 31)),
    ]
    hints = {r[1]: r[4] for r in body}
    assert hints["培训人次"] == "填数字（人次）" and hints["完成时间"] == "填 是 / 否（达成 / 未达成）"
    assert hints["社会效益"].startswith("按评判等级赋分：填“等级”和“得分”（达成年度指标 [8.00, 10.00]")
    assert all(value is None for r in body for value in r[6:])  # the value columns are empty
    cell = workbook.worksheets[0]["A3"]
    assert cell.data_type == "s" and cell.value == "=校舍维修项目"  # a name, never a formula


def fill(rows_by_name: dict, data: bytes) -> bytes:
    """Fill a downloaded xlsx template in, as a person would in Excel, and save it."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        values = rows_by_name.get(row[1].value)
        for column, value in (values or {}).items():
            row[header.index(column)].value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_filled_template_imports_as_it_is_and_twice_changes_nothing(client, templated):
    world = templated
    admin = admin_of(world.unit)
    client.force_login(admin)
    blank = client.get(template_url(world, as_of="2026-07-31")).content
    filled = fill({
        "服务人次": {"实际完成值": "0.7万"},  # in a 万人次 field: 0.7
        "数量指标/维修面积": {"实际完成值": "120"},
        "质量指标/维修面积": {"实际完成值": "99%"},
        "培训人次": {"实际完成值": 60, "偏差原因类别": "经费保障", "偏差原因": "资金晚到", "完成目标可能性": "有可能",
                   "全年预计完成值": "110", "是否需要整改": "是", "整改措施": "提前拨付"},
        "完成时间": {"实际完成值": "是"},
        "社会效益": {"等级": "达成年度指标", "得分": "9"},
        # 合格率 and 人均成本 left blank: not reported this time
    }, blank)
    response = post(client, world, filled, filename="已填模板.xlsx", approve="on")
    page = response.content.decode()
    assert "读取 8 行：记录实际完成值 6 条，未变化 0 条，未填写而跳过 2 行，审核通过填报 3 份。" in page
    assert Actual.objects.count() == 6
    training = standing(world.by_name["培训人次"])
    assert (training.value, training.forecast, training.needs_rectification, training.rectification_measures) == (
        Decimal("60"), Decimal("110"), True, "提前拨付")

    again = post(client, world, filled, filename="已填模板.xlsx", approve="on").content.decode()
    assert "记录实际完成值 0 条，未变化 6 条，未填写而跳过 2 行，审核通过填报 0 份" in again
    assert Actual.objects.count() == 6 and Report.objects.count() == 3


def test_the_csv_template_imports_as_it_is_too(client, templated):
    world = templated
    client.force_login(admin_of(world.unit))
    response = client.get(template_url(world, format="csv"))
    assert response["Content-Type"].startswith("text/csv") and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["项目名称", "三级指标", "计量单位", "指标值", "填写说明"]
    assert rows[2][0] == "'=校舍维修项目"  # a spreadsheet would run it: neutralised
    for row in rows[1:]:
        row[5] = "2026-07-31"
        if row[1] == "数量指标/维修面积":
            row[6] = "120"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    data = out.getvalue().encode("utf-8-sig")
    result = post(client, world, data, filename="模板.csv").content.decode()
    assert "记录实际完成值 1 条" in result and "未填写而跳过 7 行" in result
    assert Actual.objects.get().value == Decimal("120")
    assert Actual.objects.get().indicator.table.project.name == "=校舍维修项目"
    assert "未变化 1 条" in post(client, world, data, filename="模板.csv").content.decode()


def test_the_execution_template_lists_the_projects(client, templated):
    world = templated
    client.force_login(admin_of(world.unit))
    _, rows = sheet_rows(client.get(template_url(world, kind="execution")).content)
    assert tuple(rows[0]) == ("项目名称", "年初预算数", "当前全年预算数", *EXECUTION_COLUMNS[1:])
    assert [(r[0], r[1]) for r in rows[1:]] == [("=校舍维修项目", 100), ("教师培训项目", 100)]
    filled = fill({}, client.get(template_url(world, kind="execution")).content)
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(filled))
    sheet = workbook.worksheets[0]
    sheet["D3"], sheet["F3"], sheet["J3"], sheet["K3"] = "2026-07-31", 30, 20, 10  # 执行数, 本年财政拨款, 上年结转
    out = io.BytesIO()
    workbook.save(out)
    page = post(client, world, out.getvalue(), filename="执行.xlsx", kind="execution").content.decode()
    assert "记录执行数 1 条" in page and "未填写而跳过 1 行" in page
    execution = BudgetExecution.objects.get()
    assert (execution.project, execution.fiscal, execution.carryover, execution.other) == (
        world.project, Decimal("20"), Decimal("10"), Decimal("0"))


def test_the_template_form_says_what_is_wrong_beside_the_field(client, world):
    client.force_login(admin_of(world.unit))
    other = UnitFactory()
    response = client.get(template_url(world, as_of="2025-12-31"))
    page = response.content.decode()
    assert response.status_code == 400 and "截至日期 2025-12-31 不在 2026 年度内。" in page
    assert 'value="2025-12-31"' in page  # what was typed is kept
    response = client.get(template_url(world, unit=other.pk))
    assert response.status_code == 400 and "请选择您管理的预算单位。" in response.content.decode()
    assert client.get(reverse("importers:actuals-filled-template")).status_code == 302
    lead = UserFactory()
    membership_grant(user=lead, unit=world.unit, role=Role.LEAD)
    client.force_login(lead)
    assert client.get(template_url(world)).status_code == 403


def test_the_upload_page_offers_the_template_for_the_chosen_unit(client, world, django_assert_num_queries):
    client.force_login(admin_of(world.unit))
    # Session and user 2, may import 1, navigation 3, the unit list of each form 2 (Django's Select reads its
    # first option for the required attribute, then every option): 12, however many units.
    with django_assert_num_queries(10) as one:
        client.get(reverse("importers:actuals"))
    user = admin_of(UnitFactory())
    for _ in range(3):
        membership_grant(user=user, unit=UnitFactory(), role=Role.ADMIN)
    client.force_login(user)
    with django_assert_num_queries(len(one)):
        page = client.get(reverse("importers:actuals")).content.decode()
    assert 'action="/actuals/import/filled-template/"' in page and "下载 Excel 模板（.xlsx）" in page
    assert "本年财政拨款执行数" in page and "偏差原因类别" in page
