"""The Excel 自评表, read back with openpyxl cell by cell."""
from decimal import Decimal
from io import BytesIO
from itertools import combinations

import pytest
from openpyxl import load_workbook

from kpi.reports.services import actual_record, report_approve, report_submit
from kpi.selfeval.data import table_evaluation, unit_evaluation
from kpi.selfeval.xlsx import table_workbook, unit_workbook
from tests.factories import rescore_stale

from .conftest import JULY, expected_scores

pytestmark = pytest.mark.django_db


def values(sheet, row):
    return [sheet.cell(row=row, column=c).value for c in range(1, 9)]


def assert_no_overlap(sheet):
    ranges = list(sheet.merged_cells.ranges)
    for a, b in combinations(ranges, 2):
        overlap = not (a.max_row < b.min_row or b.max_row < a.min_row or a.max_col < b.min_col
                       or b.max_col < a.min_col)
        assert not overlap, (sheet.title, a.coord, b.coord)


def test_project_sheet_cell_by_cell(world):
    expected = expected_scores(world.indicators)
    book = load_workbook(BytesIO(table_workbook(table_evaluation(table=world.table))))
    assert book.sheetnames == ["职业技能培训补贴项目", "缺失项"]
    ws = book["职业技能培训补贴项目"]

    assert values(ws, 1)[0] == "项目支出绩效自评表"
    assert values(ws, 2)[0] == "（2026 年度）"
    assert values(ws, 3) == ["项目名称", "职业技能培训补贴项目", None, None, None, None, None, None]
    assert values(ws, 4) == ["主管部门", "测试市人社局", None, None, "实施单位", "测试市就业服务中心", None, None]
    assert values(ws, 5) == ["项目资金（万元）", None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"]
    assert values(ws, 6) == [None, "年度资金总额", 200, 200, 150, 10, 0.75, 7.5]
    # 全年执行数 per source: the 150 was recorded without its split, so each shows 缺失 (never a guess)
    assert values(ws, 7) == [None, "其中：本年财政拨款", 150, 150, "缺失", "—", "—", "—"]
    assert values(ws, 8) == [None, "上年结转资金", 30, 30, "缺失", "—", "—", "—"]
    assert values(ws, 9) == [None, "其他资金", 20, 20, "缺失", "—", "—", "—"]
    for column in "CDE":  # 万元: two places at least, up to the four they may have been published with
        assert ws[f"{column}6"].number_format == "0.00##"
    for column in "FH":  # points: two places
        assert ws[f"{column}6"].number_format == "0.00"
    assert ws["G6"].number_format == "0.00%"
    assert values(ws, 10) == ["年度总体目标", "预期目标", None, None, "实际完成情况", None, None, None]
    assert ws["B11"].value == "—"  # the factory's table has no overall goal
    assert ws["E11"].value.startswith("截至 2026年07月31日（已审核数据）")
    assert values(ws, 12) == ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                              "偏差原因分析及改进措施"]
    p = [None if x is None else float(x) for x in expected.points]
    assert values(ws, 13) == ["产出指标", "数量指标", "培训人次", "≥100人次", "80人次", 30, p[0],
                              "偏差原因（经费保障）：下半年资金到位较晚；改进措施：提前拨付培训资金"]
    assert values(ws, 14) == [None, "质量指标", "培训合格率", "≥95%", "96%", 20, p[1], None]  # A14 merged into A13
    assert values(ws, 15) == ["成本指标", "经济成本指标", "人均培训成本", "≤50元/人", "40元/人", 15, p[2], None]
    assert values(ws, 16) == ["效益指标", "社会效益指标", "就业服务质量", "有效提升", "部分达成年度指标并具有一定效果", 10,
                              p[3], None]
    assert values(ws, 17) == ["满意度指标", "服务对象满意度指标", "参训人员满意度", "≥90%", "缺失", 10, "缺失", None]
    assert values(ws, 18) == ["效益指标", "可持续影响指标", "长效机制建设", "持续提高", "不适用", 5, "不适用",
                              "不适用：本年度未开展"]
    assert values(ws, 19) == ["总分", None, None, None, None, 100, float(expected.total.total),
                              f"等级：{expected.grade}"]
    assert ws["G19"].number_format == "0.00" and ws["F13"].number_format == "0.00"
    assert ws["A20"].value.startswith("评分截至 2026-07-31（已审核数据）；评分政策：默认评分政策")

    assert sorted(r.coord for r in ws.merged_cells.ranges) == sorted([
        "A1:H1", "A2:H2", "B3:H3", "B4:D4", "F4:H4", "A5:A9", "A10:A11", "B10:D10", "E10:H10", "B11:D11",
        "E11:H11", "A13:A14", "A19:E19", "A20:H20",
    ])
    assert_no_overlap(ws)
    assert ws["A13"].border.left.style == "thin" and ws["H18"].border.right.style == "thin"
    assert ws["C13"].alignment.wrap_text
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"  # 9: A4
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["C"].width > ws.column_dimensions["F"].width

    cover = book["缺失项"]
    listed = [cover.cell(row=r, column=3).value for r in range(5, cover.max_row + 1)]
    assert "指标“参训人员满意度”：缺少实际完成值（未填报）" in listed


def test_unit_workbook_has_cover_unit_sheet_and_every_project(world):
    u = unit_evaluation(unit=world.unit, year=2026)
    book = load_workbook(BytesIO(unit_workbook(u)))
    assert book.sheetnames == ["缺失项", "部门整体自评表", "职业技能培训补贴项目"]
    cover = book["缺失项"]
    assert cover["A1"].value == "绩效自评缺失项"
    assert [cover.cell(row=4, column=c).value for c in (1, 2, 3)] == ["序号", "自评表", "缺失项"]
    rows = [(cover.cell(row=r, column=2).value, cover.cell(row=r, column=3).value) for r in range(5, cover.max_row + 1)]
    assert rows == u.missing
    unit_sheet = book["部门整体自评表"]
    texts = [cell.value for row in unit_sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert "部门整体绩效自评表" in texts and "项目支出绩效自评汇总" in texts
    assert "本单位本年度没有部门整体绩效目标表。" in texts
    summary = next(r for r in range(1, unit_sheet.max_row + 1) if unit_sheet.cell(row=r, column=1).value == "职业技能培训补贴项目")
    project = u.projects[0]
    assert values(unit_sheet, summary)[2:] == [200, 150, 0.75, float(project.indicator_points), float(project.total),
                                               project.grade]
    assert values(unit_sheet, summary + 1)[0] == "合计"
    for sheet in book.worksheets:
        assert_no_overlap(sheet)


def test_control_characters_do_not_break_the_file(world):
    first = world.indicators[0].actuals.get()
    actual_record(indicator=world.indicators[0], as_of=JULY, value=Decimal("85"), replaces=first,
                           deviation_reason="原因\x0b说明\x07", user=world.lead)
    from kpi.models import Report

    report = Report.objects.get(table=world.table, status=Report.Status.DRAFT)
    report_approve(report=report_submit(report=report))
    rescore_stale()
    book = load_workbook(BytesIO(table_workbook(table_evaluation(table=world.table))))
    assert book.worksheets[0]["H13"].value == "偏差原因：原因说明"


def test_a_table_with_nothing_missing_says_so(world):
    from openpyxl import Workbook

    from kpi.selfeval.xlsx import _write_cover

    book = Workbook()
    _write_cover(book.active, heading="x", items=[], policy_name="默认评分政策", generated_at=None)
    assert book.active["A5"].value == "无缺失项。"


def _cells(book):
    out = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                out.append((ws.title, c.coordinate, c.value, c.data_type, c.number_format, c.font.name, c.font.b,
                            c.font.sz, c.font.color.rgb if c.font.color else None, c.alignment.horizontal,
                            c.alignment.wrap_text, c.fill.fgColor.rgb, c.border.left.style, c.border.top.style,
                            c.border.right.style, c.border.bottom.style))
        out.append((ws.title, sorted(map(str, ws.merged_cells.ranges)),
                    [ws.row_dimensions[r].height for r in range(1, ws.max_row + 1)]))
    return out


def test_the_fast_styles_and_merges_write_the_same_workbook(world, monkeypatch):
    """styled/merge_disjoint (applied once per workbook, ranges added as coordinates) give exactly what
    openpyxl's own setters and merge_cells give."""
    from kpi import spreadsheets
    from kpi.selfeval import xlsx

    evaluation = unit_evaluation(unit=world.unit, year=2026)
    fast = load_workbook(BytesIO(unit_workbook(evaluation)))

    def slow_styled(ws, row, col, **styles):
        cell = ws.cell(row=row, column=col)
        for name, style in styles.items():
            if style is not None:
                setattr(cell, {"align": "alignment"}.get(name, name), style)
        return cell

    monkeypatch.setattr(xlsx, "styled", slow_styled)
    monkeypatch.setattr(xlsx, "merge_disjoint", spreadsheets.merge)
    slow = load_workbook(BytesIO(unit_workbook(evaluation)))
    assert _cells(fast) == _cells(slow)
    for ws in fast.worksheets:
        assert_no_overlap(ws)


def test_row_heights_fit_wrapped_text_and_are_estimated_in_one_pass(monkeypatch):
    """A long text gets as many lines as its (merged) width needs, a cell merged down several rows is not
    estimated; and the sheet is measured once, not once per row (that was quadratic: a third of the time of
    a 1,000-project unit's workbook)."""
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    from kpi.selfeval import xlsx
    from kpi.spreadsheets import merge_disjoint

    sheet = Workbook().active
    for column, width in enumerate((10, 10, 10), start=1):
        sheet.column_dimensions["ABC"[column - 1]].width = width
    long = "偏差原因分析及改进措施" * 4
    sheet.cell(1, 1, long)  # one column wide
    sheet.cell(2, 1, long)  # three columns wide
    merge_disjoint(sheet, 2, 1, 2, 3)
    sheet.cell(3, 1, long * 5)  # merged down two rows: not estimated
    merge_disjoint(sheet, 3, 1, 4, 1)
    sheet.cell(3, 2, "短")
    for row in range(5, 400):
        sheet.cell(row, 2, f"第{row}行")
    measured = 0
    max_column = Worksheet.max_column

    def counted(self):
        nonlocal measured
        measured += 1
        return max_column.fget(self)

    monkeypatch.setattr(Worksheet, "max_column", property(counted))
    xlsx._fit_heights(sheet, list(range(1, 400)))
    assert measured == 1
    heights = [sheet.row_dimensions[row].height for row in (1, 2, 3, 5)]
    assert heights[0] > heights[1] > heights[2] == heights[3] == 20.0  # 20 points: the least
