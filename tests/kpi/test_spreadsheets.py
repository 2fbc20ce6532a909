"""kpi.spreadsheets, the one kit of every xlsx/csv writer, and every export built with it: a text that looks
like a formula ("=100%", "==HYPERLINK(…)", "  =1+1", "+1", "-2", "@SUM(A1)", a tab-led text) is stored as that
exact text in every workbook, never as a formula, and is neutralised with a leading ' in the CSV."""
import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal as D
from io import BytesIO

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from budgets.services import membership_grant
from kpi import spreadsheets as kit
from kpi.goals.services import goal_table_create, indicator_create
from kpi.importers.services import document_from_tables
from kpi.importers.xlsx import write_workbook
from kpi.monitoring.selectors import monitoring_report
from kpi.monitoring.xlsx import monitoring_workbook
from kpi.reports.services import actual_record, execution_report
from kpi.rescoring.tasks import rescore_table
from kpi.scorecards.export import SafeTableExport
from kpi.selfeval.data import table_evaluation, unit_evaluation
from kpi.selfeval.xlsx import table_workbook, unit_workbook
from tests.factories import ProjectFactory, UnitFactory, UserFactory, approve_reports, rescore_stale

YEAR = 2026
JULY = dt.date(YEAR, 7, 31)
HYPERLINK = '==HYPERLINK("http://x","y")'
EQUALS_TARGET = "=100%"
RANGE_TARGET = "=50-100元"
TRICKY = ("  =1+1", "+1", "-2", "@SUM(A1)", "\t制表开头")
TEXTS = (HYPERLINK, EQUALS_TARGET, RANGE_TARGET, *TRICKY)  # in every goal-table workbook
PLAIN = "普通项目"  # a project name nothing needs to neutralise
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# --- the data: formula-like texts everywhere a person can type one ----------------------------------------

@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def world(db):
    """A unit with the project `==HYPERLINK(…)` (lead `@SUM(A1)`), whose indicators are named like formulas
    and aim at `=100%` and `=50-100元`, reported and approved; projects named like formulas (led by
    `==HYPERLINK(…)`) and a plain one; and the unit's own table aiming at `=100%`."""
    unit = UnitFactory(name="@测试单位")
    admin = UserFactory()
    membership_grant(user=admin, unit=unit, role="admin")
    project = ProjectFactory(unit=unit, name=HYPERLINK, lead_name="@SUM(A1)", budget_initial=D("100"),
                             fiscal=D("100"))
    table = goal_table_create(unit=unit, year=YEAR, project=project, overall_goal="  =1+1")
    rows = [
        ("产出指标", "数量指标", "  =1+1", EQUALS_TARGET, D("30"), None, "+1", "-2"),
        ("产出指标", "质量指标", "+1", RANGE_TARGET, D("20"), None, "", ""),
        ("成本指标", "经济成本指标", "-2", "<=50元/人", D("20"), None, "", ""),
        ("效益指标", "社会效益指标", "@SUM(A1)", ">=10个", D("10"), None, "", ""),
        ("满意度指标", "服务对象满意度指标", "\t制表开头", ">=90%", D("10"), "满意度赋分", "", ""),
    ]
    indicators = [
        indicator_create(table=table, level1=r[0], level2=r[1], name=r[2], target_raw=r[3], weight=r[4], rule=r[5],
                         basis=r[6], evidence=r[7])
        for r in rows
    ]
    actual_record(indicator=indicators[0], as_of=JULY, value=D("100"))
    actual_record(indicator=indicators[1], as_of=JULY, value=D("80"), deviation_reason="=1+1",
                  needs_rectification=True, rectification_measures="-2")
    actual_record(indicator=indicators[2], as_of=JULY, value=D("40"), rectification_measures="@SUM(A1)")
    actual_record(indicator=indicators[3], as_of=JULY, value=D("12"))
    execution_report(project=project, as_of=JULY, executed=D("60"))
    approve_reports(table)
    for name in (*TRICKY, PLAIN):
        ProjectFactory(unit=unit, name=name, lead_name=HYPERLINK)
    unit_table = goal_table_create(unit=unit, year=YEAR, overall_goal=EQUALS_TARGET)
    indicator_create(table=unit_table, level1="履职效能", level2="数量指标", name="+1", target_raw=EQUALS_TARGET,
                     weight=D("90"))
    rescore_stale()
    return {"unit": unit, "admin": admin, "project": project, "table": table, "unit_table": unit_table}


# --- reading an export back ---------------------------------------------------------------------------------

def read_back(data: bytes):
    """The workbook as written, formulas as formulas (data_only=False); fails if any sheet holds a formula."""
    with zipfile.ZipFile(BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                assert not re.search(rb"<(\w+:)?f[ >/]", archive.read(name)), f"a formula in {name}"
    book = load_workbook(BytesIO(data), data_only=False)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    return book


def string_cells(book) -> dict[str, list[str]]:
    """Every text of the workbook → where it is (sheet!cell), asserting each is stored as a string."""
    found: dict[str, list[str]] = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value, cell.data_type)
                    found.setdefault(cell.value, []).append(f"{ws.title}!{cell.coordinate}")
    return found


def assert_exact_texts(data: bytes, texts) -> dict[str, list[str]]:
    found = string_cells(read_back(data))
    missing = [text for text in texts if text not in found]
    assert not missing, missing
    return found


# --- every export -------------------------------------------------------------------------------------------

def test_the_goal_table_template_keeps_every_text_as_text(world):
    data = write_workbook(document_from_tables(tables=[world["table"], world["unit_table"]]))
    found = assert_exact_texts(data, (*TEXTS, "@测试单位"))
    book = load_workbook(BytesIO(data))
    project_sheet = book.worksheets[0]
    assert project_sheet["B4"].value == HYPERLINK and project_sheet["B5"].value == "@SUM(A1)"
    assert project_sheet["B4"].number_format == "@"  # a text cell stays a text cell when edited in Excel
    assert any(where.endswith("!D9") for where in found[EQUALS_TARGET])  # the first indicator's 指标值


def test_the_blank_template_has_no_formula():
    from kpi.importers.xlsx import blank_template

    read_back(blank_template(YEAR))


def test_the_monitoring_workbook_keeps_every_text_as_text(world):
    data = monitoring_workbook(monitoring_report(unit=world["unit"], year=YEAR, cut=JULY))
    found = assert_exact_texts(data, (*TEXTS, "=1+1"))  # "=1+1": the 偏差原因 of the second indicator
    assert found["-2"] and found["@SUM(A1)"]  # 整改措施 too


def test_the_selfeval_table_workbook_keeps_every_text_as_text(world):
    data = table_workbook(table_evaluation(table=world["table"]))
    found = assert_exact_texts(data, TEXTS)
    book = load_workbook(BytesIO(data))
    form = book.worksheets[0]
    assert form["B3"].value == HYPERLINK  # 项目名称
    targets = [form.cell(row=r, column=4).value for r in range(1, form.max_row + 1)]
    assert EQUALS_TARGET in targets and RANGE_TARGET in targets
    assert found[EQUALS_TARGET] and not any(isinstance(v, (int, float)) and v == 1 for v in targets)


def test_the_selfeval_unit_workbook_keeps_every_text_as_text(world):
    data = unit_workbook(unit_evaluation(unit=world["unit"], year=YEAR))
    assert_exact_texts(data, TEXTS)
    unit_table = table_workbook(table_evaluation(table=world["unit_table"]))
    assert_exact_texts(unit_table, (EQUALS_TARGET, "+1"))


@pytest.fixture
def admin_client(client, world):
    client.force_login(world["admin"])
    return client


def export(client, world, fmt):
    response = client.get(reverse("scorecards:unit", args=[world["unit"].pk, YEAR]) + f"?_export={fmt}&sort=name")
    assert response.status_code == 200
    return response


def test_the_scorecard_xlsx_keeps_every_text_as_text(admin_client, world):
    data = export(admin_client, world, "xlsx").content
    found = assert_exact_texts(data, (HYPERLINK, *TRICKY, PLAIN, "@SUM(A1)"))
    assert len(found[HYPERLINK]) == 1 + len(TRICKY) + 1  # the project, and the lead of the others
    sheet = load_workbook(BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    row = next(r for r in rows if r[0] == HYPERLINK)
    record = dict(zip(rows[0], row, strict=True))
    assert record["项目负责人"] == "@SUM(A1)" and record["全年预算数（万元）"] == 100  # numbers stay numbers
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b


def test_the_scorecard_csv_neutralises_every_formula_like_text(admin_client, world):
    response = export(admin_client, world, "csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    header, body = rows[0], rows[1:]
    names = {HYPERLINK, *TRICKY, PLAIN}
    assert {row[0] for row in body} == {("'" + n) if n.lstrip(" ").startswith(TRIGGERS) else n for n in names}
    for row in body:
        for value in row:
            stripped = value.lstrip(" ")
            assert not stripped.startswith(TRIGGERS), (row, value)  # nothing a spreadsheet would run
            if value.startswith("'"):
                assert kit.formula_like(value[1:]), value  # only what needed it got the apostrophe
    original = next(row for row in body if row[0] == "'" + HYPERLINK)
    record = dict(zip(header, original, strict=True))
    assert record["项目负责人"] == "'@SUM(A1)" and record["全年预算数（万元）"] == "100.00"
    plain = next(row for row in body if row[0] == PLAIN)
    assert plain[1] == "'" + HYPERLINK


# --- SafeTableExport on a dataset -----------------------------------------------------------------------

def table_export(fmt, headers, rows):
    import tablib

    exporter = SafeTableExport.__new__(SafeTableExport)
    exporter.format = fmt
    exporter.dataset = tablib.Dataset(*rows, headers=headers, title="单位绩效看板")
    return exporter.export()


def test_the_xlsx_export_writes_texts_as_texts_and_numbers_as_numbers():
    data = table_export("xlsx", ["项目", "总分"], [[HYPERLINK, D("-2.50")], ["=1+1\n第二行", None], ["#N/A", 3]])
    found = assert_exact_texts(data, (HYPERLINK, "=1+1\n第二行", "#N/A"))
    sheet = load_workbook(BytesIO(data)).active
    assert sheet.title == "单位绩效看板"
    assert sheet["B2"].value == -2.5 and sheet["B2"].data_type == "n" and sheet["B4"].value == 3
    assert sheet["B3"].value is None and sheet["A3"].alignment.wrap_text
    assert found["项目"] == ["单位绩效看板!A1"]


def test_the_xlsx_export_keeps_dates_and_writes_zoned_times_as_text():
    zoned = dt.datetime(2026, 7, 31, 9, 30, tzinfo=dt.UTC)
    data = table_export("xlsx", ["日期", "时间"], [[dt.date(2026, 7, 31), zoned]])
    sheet = read_back(data).active
    assert sheet["A2"].value == dt.datetime(2026, 7, 31) and sheet["A2"].is_date
    assert sheet["B2"].value == str(zoned) and sheet["B2"].data_type == "s"


def test_the_csv_export_prefixes_formula_like_texts_only():
    text = table_export("csv", ["项目", "负责人", "总分"], [
        [HYPERLINK, "a=1", D("-2.50")],
        ["  =1+1", "\t制表开头", 3],
        ["-2", None, None],
    ])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [
        ["项目", "负责人", "总分"],
        ["'" + HYPERLINK, "a=1", "-2.50"],  # a number is not text: never prefixed
        ["'  =1+1", "'\t制表开头", "3"],
        ["'-2", "", ""],
    ]


# --- the kit ------------------------------------------------------------------------------------------

def write_and_read(values):
    """Write the values down column A with the kit, save, and read the cells back."""
    book = Workbook()
    for row, value in enumerate(values, start=1):
        kit.put(book.active, row, 1, value)
    buffer = BytesIO()
    book.save(buffer)
    sheet = read_back(buffer.getvalue()).active
    return [sheet.cell(row=row, column=1) for row in range(1, len(values) + 1)]


@pytest.mark.parametrize("text", [*TEXTS, "=1+1", "#N/A", "#NAME?", "=", "-", "@", "'=1", "=SUM(A1:A3)", "TRUE"])
def test_put_stores_a_text_as_that_text(text):
    (cell,) = write_and_read([text])
    assert cell.data_type == "s" and cell.value == text


def test_a_formula_like_text_gets_the_quote_prefix_and_a_plain_one_does_not():
    formula, plain = write_and_read(["=1+1", "一般文字"])
    assert formula.quotePrefix and not plain.quotePrefix


def test_put_stores_numbers_and_none_as_they_are():
    number, decimal, empty, day = write_and_read([3, D("-2.5"), None, dt.date(2026, 7, 31)])
    assert (number.value, number.data_type) == (3, "n")
    assert (decimal.value, decimal.data_type) == (-2.5, "n")
    assert empty.value is None
    assert day.value == dt.datetime(2026, 7, 31)


def test_clean_text_removes_what_excel_refuses_and_caps_the_length():
    assert kit.clean_text("原因\x0b说明\x07") == "原因说明"
    assert kit.clean_text("第一行\r\n第二行\r第三行") == "第一行\n第二行\n第三行"
    assert kit.clean_text("\ufffe甲\uffff") == "甲"
    assert kit.clean_text("甲" * 40000) == "甲" * kit.MAX_CELL_CHARS
    (cell,) = write_and_read(["\x01\x02"])
    assert cell.value is None  # nothing left: an empty cell


def test_put_applies_only_the_styles_given():
    ws = Workbook().active
    cell = kit.put(ws, 1, 1, "甲", font=kit.song(10, bold=True), align=kit.CENTER, fill=kit.LABEL_FILL,
                   border=kit.BORDER, number_format=kit.TEXT_FORMAT)
    assert (cell.font.name, cell.font.sz, cell.font.b) == ("宋体", 10, True)
    assert cell.alignment.horizontal == "center" and cell.alignment.wrap_text
    assert cell.fill.fgColor.rgb.endswith("F2F2F2") and cell.border.left.style == "thin"
    assert cell.number_format == "@"
    bare = kit.put(ws, 2, 1, "乙")
    assert bare.font.name != "宋体" and bare.border.left.style is None and bare.number_format == "General"


def test_the_shared_fonts():
    assert kit.song(11) is kit.song(11)  # one object per size
    assert (kit.TITLE_FONT.name, kit.TITLE_FONT.sz, kit.TITLE_FONT.b) == ("黑体", 16, True)
    assert kit.song(9, color="555555").color.rgb.endswith("555555")


def bordered_all_round(cell) -> bool:
    return all(getattr(cell.border, side).style == "thin" for side in ("left", "right", "top", "bottom"))


def test_merge_borders_every_cell_of_the_range():
    book = Workbook()
    ws = book.active
    kit.put(ws, 1, 1, "甲")  # the top-left cell has no border of its own
    kit.merge(ws, 1, 1, 2, 3)
    kit.merge(ws, 4, 1, 4, 1)  # a single cell: bordered, not merged
    kit.merge(ws, 5, 1, 5, 2, border=None)
    assert sorted(str(r) for r in ws.merged_cells.ranges) == ["A1:C2", "A5:B5"]
    assert all(bordered_all_round(cell) for row in ws["A1:C2"] for cell in row)
    assert bordered_all_round(ws["A4"])
    assert ws["A5"].border.top.style is None and ws["B5"].border.top.style is None
    buffer = BytesIO()
    book.save(buffer)
    saved = load_workbook(BytesIO(buffer.getvalue())).active  # openpyxl rebuilds the range's edges on reading
    assert all(saved.cell(row=2, column=c).border.bottom.style == "thin" for c in (1, 2, 3))
    assert saved["C1"].border.right.style == "thin" and saved["C2"].border.right.style == "thin"


def test_put_merged_styles_every_cell_and_writes_the_top_left():
    ws = Workbook().active
    kit.put_merged(ws, 1, 1, 1, 3, "=100%", font=kit.song(11, bold=True), fill=kit.LABEL_FILL)
    assert ws["A1"].value == "=100%" and ws["A1"].data_type == "s"
    assert ws["A1"].fill.fgColor.rgb.endswith("F2F2F2") and ws["A1"].font.b
    assert all(bordered_all_round(cell) for cell in ws[1])
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:C1"]
    kit.put_merged(ws, 3, 1, 4, 2, "乙", border=None)
    assert ws["A3"].value == "乙" and ws["B4"].border.bottom.style is None


@pytest.mark.parametrize(
    ("wanted", "used", "expected"),
    [
        ("职业技能培训补贴项目", set(), "职业技能培训补贴项目"),
        ('==HYPERLINK("http://x","y")', set(), '==HYPERLINK("http___x","y")'),
        ("a[b]c:d*e?f/g\\h", set(), "a_b_c_d_e_f_g_h"),
        ("第一行\n第二行\t", set(), "第一行_第二行_"),
        ("  'x'  ", set(), "x"),
        ("''", set(), "项目"),
        ("\x01", set(), "项目"),
        ("项目", {"项目"}, "项目(2)"),
        ("ABC", {"abc", "abc(2)"}, "ABC(3)"),
        ("History", set(), "History(2)"),  # Excel keeps "History" for itself
        ("甲" * 40, set(), "甲" * 31),
        ("甲" * 40, {("甲" * 31).casefold()}, "甲" * 28 + "(2)"),
    ],
)
def test_sheet_title(wanted, used, expected):
    assert kit.sheet_title(wanted, used) == expected
    assert expected.casefold() in used


def test_display_width_and_wrapped_lines():
    assert kit.display_width("abc") == 3 and kit.display_width("绩效ab") == 6 and kit.display_width("（）") == 4
    assert kit.wrapped_lines("", 10) == 1 and kit.wrapped_lines(None, 10) == 1
    assert kit.wrapped_lines("甲" * 9, 10) == 2  # 18 wide in 9 per line
    assert kit.wrapped_lines("a\nb\n", 10) == 3
    assert kit.wrapped_lines("a" * 10, 3) == 3  # never fewer than 4 characters a line
    assert kit.wrapped_lines("a" * 10, 4, margin=1.5, minimum=2) == 4  # 2.5 a line
    assert kit.wrapped_lines("a" * 10, 3, margin=1.5, minimum=2) == 5  # 2 a line at least


def test_fit_to_width():
    ws = Workbook().active
    kit.fit_to_width(ws, orientation="portrait", paper_size=ws.PAPERSIZE_A4)
    assert ws.page_setup.orientation == "portrait" and int(ws.page_setup.paperSize) == 9
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        (HYPERLINK, "'" + HYPERLINK),
        ("  =1+1", "'  =1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t制表开头", "'\t制表开头"),
        ("\r=1", "'\r=1"),
        (" \u3000\n-1", "' \u3000\n-1"),
        ("a=1", "a=1"),
        ("普通项目", "普通项目"),
        ("'=1", "'=1"),
        ("", ""),
        ("   ", "   "),
        (D("-2.5"), D("-2.5")),
        (-3, -3),
        (None, None),
    ],
)
def test_csv_safe(value, expected):
    assert kit.csv_safe(value) == expected


# --- properties -----------------------------------------------------------------------------------------

EXCLUDED = "".join(chr(c) for c in range(0x20) if ILLEGAL_CHARACTERS_RE.match(chr(c))) + "\r\ufffe\uffff"
cell_texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=EXCLUDED), min_size=1,
                     max_size=60)
formula_heads = st.sampled_from(["=", "==", "+", "-", "@", "\t", " =", "  +", "\t=", " \t@"])
formula_like_texts = st.builds(lambda head, tail: head + tail, formula_heads, st.text(max_size=20))
any_texts = st.one_of(st.text(max_size=60), formula_like_texts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(cell_texts, formula_like_texts.map(kit.clean_text).filter(bool)), min_size=1,
                max_size=15))
def test_a_written_text_always_reads_back_identical_and_as_a_string(texts):
    for text, cell in zip(texts, write_and_read(texts), strict=True):
        assert cell.data_type == "s" and cell.value == text


@settings(max_examples=60, deadline=None)
@given(st.lists(any_texts, min_size=1, max_size=15))
def test_any_text_reads_back_as_its_cleaned_self(texts):
    for text, cell in zip(texts, write_and_read(texts), strict=True):
        cleaned = kit.clean_text(text)
        assert cell.value == (cleaned or None)
        if cleaned:
            assert cell.data_type == "s"


@given(any_texts)
def test_csv_safe_output_never_starts_with_a_trigger(text):
    safe = kit.csv_safe(text)
    assert not safe.lstrip(" ").startswith(TRIGGERS)
    assert not kit.formula_like(safe)
    assert safe == ("'" + text if kit.formula_like(text) else text)  # the original, after at most one '
    assert kit.csv_safe(safe) == safe


@given(st.lists(any_texts, min_size=1, max_size=10))
def test_csv_safe_cells_survive_the_csv_round_trip(texts):
    stream = io.StringIO()
    csv.writer(stream).writerow([kit.csv_safe(t) for t in texts])
    (row,) = list(csv.reader(io.StringIO(stream.getvalue(), newline="")))
    assert row == [kit.csv_safe(t) for t in texts]


@given(st.text(max_size=50), st.sets(st.text(max_size=35), max_size=5))
def test_sheet_titles_are_valid_and_unique(wanted, used):
    used = {u.casefold() for u in used}
    before = set(used)
    title = kit.sheet_title(wanted, used)
    assert 1 <= len(title) <= 31
    assert not set(title) & set('[]:*?/\\\n\r\t')
    assert not ILLEGAL_CHARACTERS_RE.search(title)
    assert title == title.strip() and not title.startswith("'") and not title.endswith("'")
    assert title.casefold() not in before and title.casefold() != "history"
    assert used == before | {title.casefold()}


@given(st.text(max_size=80), st.integers(min_value=1, max_value=120))
def test_wrapped_lines_is_at_least_the_line_count(text, width):
    assert kit.wrapped_lines(text, width) >= text.count("\n") + 1
