"""The Excel template: write, read back, survive a person's edits, refuse what is not a goal table."""
import datetime
import zipfile
from decimal import Decimal
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.cell_range import CellRange

from kpi.importers.parsed import PROJECT, UNIT, NotADisclosure, ParsedDocument, ParsedIndicator, ParsedTable
from kpi.importers.xlsx import (
    EMPTY_ROWS,
    LEVEL1_NAMES,
    LEVEL2_NAMES,
    RULES,
    blank_template,
    read_workbook,
    write_workbook,
)

D = Decimal


def comparable(document: ParsedDocument):
    """Every field the template holds (not `line`, not warnings)."""
    return (
        document.unit,
        document.year,
        [
            (
                t.scope, t.project, t.lead, t.overall_goal, t.total, t.fiscal, t.other,
                t.fiscal_superior, t.fiscal_local, t.contact, t.phone,
                [(i.level1, i.level2, i.name, i.target, i.basis, i.last_year, i.weight, i.rule, i.evidence)
                 for i in t.indicators],
            )
            for t in document.tables
        ],
    )


def sample_document() -> ParsedDocument:
    return ParsedDocument(
        unit="某县社会保险事业管理中心",
        year=2024,
        tables=[
            ParsedTable(
                scope=PROJECT,
                project="城乡居民基本养老保险基础养老金补助资金（含丧葬费）及其他相关待遇发放经费",
                lead="张三",
                overall_goal="按时足额发放城乡居民基础养老金，\n保障参保群众基本生活。",
                total=D("1982.45"),
                fiscal=D("1900.00"),
                other=D("82.45"),
                indicators=[
                    ParsedIndicator("产出指标", "数量指标", "发放人数", ">=6 万人次", "上年实际", "5.8万人次",
                                    D("30"), "按照完成比例赋分", "花名册"),
                    ParsedIndicator("产出指标", "质量指标", "发放准确率", "=100%", "", "100%", D("20.5"),
                                    "直接赋分", ""),
                    ParsedIndicator("成本指标", "经济成本指标", "人均补助", "<=4.33万元/月", "", "", D("4.33"),
                                    "按照完成比例赋分", "财务报表"),
                    ParsedIndicator("效益指标", "社会效益指标", "群众生活水平", "有效提升", "", "", D("25.17"),
                                    "按评判等级赋分", ""),
                    ParsedIndicator("满意度指标", "满意度指标", "参保人员满意度", "≥95%", "", "", D("10"),
                                    "满意度赋分", "问卷"),
                ],
            ),
            ParsedTable(
                scope=PROJECT,
                project="就业补助",
                lead=None,
                overall_goal="",
                total=D("0.50"),
                fiscal=None,
                other=None,
                indicators=[
                    ParsedIndicator("产出指标", "时效指标", "完成时间", "2024年12月31日前"),  # old format: no weight
                    ParsedIndicator("其他指标", "可持续影响指标", "机制", "长期", weight=None, rule=""),
                ],
            ),
            ParsedTable(
                scope=UNIT,
                overall_goal="履行社会保险经办职能，提升服务水平。",
                total=D("3000.00"),
                fiscal=D("2800.00"),
                other=D("200.00"),
                fiscal_superior=D("1000.00"),
                fiscal_local=D("1800.00"),
                contact="李四",
                phone="0371-12345678",
                indicators=[
                    ParsedIndicator("履职效能", "数量指标", "经办业务量", ">=10000件", weight=D("60")),
                    ParsedIndicator("服务对象满意度", "满意度指标", "服务对象满意度", ">=90%", weight=D("30")),
                ],
            ),
        ],
    )


def test_round_trip_of_a_hand_built_document():
    document = sample_document()
    back = read_workbook(write_workbook(document), source="目标表.xlsx")
    assert comparable(back) == comparable(document)
    assert back.source == "目标表.xlsx"
    assert back.warnings == []
    assert all(t.warnings == [] for t in back.tables)
    assert back.tables[1].indicators[0].weight is None
    assert back.tables[0].indicators[1].basis == ""
    assert back.tables[0].indicators[2].weight == D("4.33")
    assert back.tables[0].total == D("1982.45") and str(back.tables[0].total) == "1982.45"
    assert str(back.tables[1].total) == "0.50"
    # line = the Excel row: the indicator header is row 8, the first indicator row 9.
    assert [i.line for i in back.tables[0].indicators] == [9, 10, 11, 12, 13]


def test_workbook_layout():
    document = sample_document()
    workbook = load_workbook(BytesIO(write_workbook(document)))
    assert workbook.sheetnames == [
        document.tables[0].project[:31], "就业补助", "部门整体绩效目标表", "说明",
    ]
    ws = workbook.worksheets[0]
    assert len(workbook.sheetnames[0]) == 31
    assert ws["A1"].value == "项目支出绩效目标表" and ws["A1"].font.b
    assert "A1:I1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value == "（2024 年）"
    assert (ws["A3"].value, ws["B3"].value) == ("预算单位", "某县社会保险事业管理中心")
    assert ws["A4"].value == "项目名称" and ws["A5"].value == "项目负责人" and ws["A7"].value == "项目总体目标"
    assert [ws.cell(6, c).value for c in (2, 4, 6)] == ["年度预算总额", "其中：财政拨款", "其他资金"]
    money = ws["C6"]
    assert money.data_type == "n" and money.number_format == "0.00" and D(str(money.value)) == D("1982.45")
    header = [ws.cell(8, c).value for c in range(1, 10)]
    assert header == ["一级指标", "二级指标", "三级指标", "指标值", "指标值设置依据", "上年完成值",
                      "指标分值权重", "指标赋分规则", "佐证资料"]
    assert all(ws.cell(8, c).font.b for c in range(1, 10))
    assert ws.cell(9, 1).border.left.style == "thin" and ws.cell(9, 3).alignment.wrap_text
    assert ws.column_dimensions["C"].width > 20
    weight = ws["G9"]
    assert weight.data_type == "n" and weight.value == 30
    # Targets such as "=100%" are text, never formulas.
    assert ws["D10"].value == "=100%" and ws["D10"].data_type == "s"

    unit = workbook["部门整体绩效目标表"]
    assert unit["A1"].value == "部门整体绩效目标表"
    labels = {c.value for row in unit.iter_rows(max_row=7) for c in row if isinstance(c.value, str)}
    assert {"部门名称", "部门联系人", "联系电话", "年度绩效目标", "财政资金（上级安排）", "财政资金（本级安排）",
            "其他资金", "合计"} <= labels
    assert "某县社会保险事业管理中心" in labels

    help_sheet = workbook["说明"]
    assert "填表说明" in help_sheet["A1"].value
    assert any("90" in (c.value or "") for c in help_sheet["A"])


def test_sheet_titles_are_valid_and_unique():
    tables = [
        ParsedTable(scope=PROJECT, project="a/b:c*d?[e]", indicators=[ParsedIndicator("产出指标", "数量指标", "x", "1")]),
        ParsedTable(scope=PROJECT, project="A/B:C*D?[E]", indicators=[ParsedIndicator("产出指标", "数量指标", "x", "1")]),
        ParsedTable(scope=PROJECT, project="说明", indicators=[ParsedIndicator("产出指标", "数量指标", "x", "1")]),
        ParsedTable(scope=PROJECT, project="部门整体绩效目标表"),
        ParsedTable(scope=UNIT, indicators=[ParsedIndicator("履职效能", "数量指标", "x", "1")]),
        ParsedTable(scope=PROJECT, project="很" * 40),
        ParsedTable(scope=PROJECT, project="很" * 40),
    ]
    document = ParsedDocument(unit="单位", year=2023, tables=tables)
    workbook = load_workbook(BytesIO(write_workbook(document)))
    names = workbook.sheetnames
    assert names[0] == "a_b_c_d__e_"
    assert len({n.casefold() for n in names}) == len(names)
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert names[4] == "部门整体绩效目标表" and names[-1] == "说明"
    assert names[5] == "很" * 31 and names[6].endswith("(2)") and len(names[6]) == 31
    back = read_workbook(write_workbook(document))
    assert comparable(back) == comparable(document)


def _validations(ws):
    found = {}
    for validation in ws.data_validations.dataValidation:
        for cell_range in str(validation.sqref).split():
            found[cell_range] = validation
    return found


def test_data_validations_on_the_right_columns():
    workbook = load_workbook(BytesIO(write_workbook(sample_document())))
    for ws, count in ((workbook.worksheets[0], 5), (workbook.worksheets[1], 2), (workbook.worksheets[2], 2)):
        last = 8 + count + EMPTY_ROWS
        found = _validations(ws)
        assert set(found) == {f"{col}9:{col}{last}" for col in "ABGH"}

        def listed(validation):
            assert validation.type == "list"
            return tuple(validation.formula1.strip('"').split(","))

        level1, level2 = found[f"A9:A{last}"], found[f"B9:B{last}"]
        rule, weight = found[f"H9:H{last}"], found[f"G9:G{last}"]
        assert listed(rule) == RULES == ("按照完成比例赋分", "直接赋分", "按评判等级赋分", "满意度赋分")
        assert rule.showErrorMessage and rule.errorStyle in (None, "stop") and "按照完成比例赋分" in rule.error
        assert listed(level1) == LEVEL1_NAMES
        assert set(LEVEL1_NAMES) == {"产出指标", "成本指标", "效益指标", "满意度指标", "履职效能", "服务对象满意度"}
        assert listed(level2) == LEVEL2_NAMES and len(LEVEL2_NAMES) == 9
        for validation in (level1, level2):  # other level names are allowed
            assert validation.errorStyle == "warning" or not validation.showErrorMessage
            assert "指标" in validation.error
        assert weight.type == "decimal" and weight.operator == "greaterThanOrEqual" and weight.formula1 == "0"
        assert "不小于 0" in weight.error
        # The empty rows below the indicators are formatted for typing.
        assert ws.cell(last, 3).border.left.style == "thin" and ws.cell(last, 4).number_format == "@"


def test_blank_template_reads_back_as_an_unfilled_document():
    data = blank_template(2025)
    workbook = load_workbook(BytesIO(data))
    assert workbook.sheetnames == ["项目1", "说明"]
    ws = workbook["项目1"]
    assert ws["A1"].value == "项目支出绩效目标表" and ws["A2"].value == "（2025 年）"
    assert ws["A4"].value == "项目名称" and ws["B4"].value is None
    assert set(_validations(ws)) == {f"{col}9:{col}{8 + EMPTY_ROWS}" for col in "ABGH"}
    # Decision: an untouched template is a goal-table workbook with no tables (a warning says why), not an error.
    document = read_workbook(data)
    assert (document.unit, document.year, document.tables) == ("", 2025, [])
    assert document.warnings == ["工作表“项目1”尚未填写，已跳过。"]


def _insert_row_like_excel(ws, index: int, amount: int = 1):
    """openpyxl's insert_rows moves cells only; Excel also moves merged ranges and validations."""
    merged = [CellRange(r.coord) for r in ws.merged_cells.ranges]
    for cell_range in merged:
        ws.unmerge_cells(cell_range.coord)
    ws.insert_rows(index, amount)
    for cell_range in merged:
        if cell_range.min_row >= index:
            cell_range.shift(row_shift=amount)
        ws.merge_cells(cell_range.coord)
    for validation in ws.data_validations.dataValidation:
        ranges = [CellRange(r) for r in str(validation.sqref).split()]
        for cell_range in ranges:
            if cell_range.min_row >= index:
                cell_range.shift(row_shift=amount)
        validation.sqref = " ".join(r.coord for r in ranges)


def test_a_user_edited_workbook_still_reads():
    document = sample_document()
    workbook = load_workbook(BytesIO(write_workbook(document)))
    ws = workbook.worksheets[0]
    _insert_row_like_excel(ws, 1, 2)  # notes above the whole header block
    ws["A1"] = "填报单位自留备注"
    # Now the indicator header is row 10, indicators from row 11.
    assert ws["C10"].value == "三级指标"
    ws["G11"] = "12"  # weight typed as text
    ws["A12"] = None  # level 1 left blank: same as the row above
    ws["C8"] = "1,982.45"  # money as text with a thousands separator
    _insert_row_like_excel(ws, 13)  # an empty row inside the indicators
    # A new indicator typed into the empty rows, with its level 2 blank too.
    ws["C20"], ws["D20"], ws["G20"] = "新增指标", ">=3 件", 5
    ws["C22"] = "只有名称"  # no 指标值
    ws["D23"] = ">=1"  # no 三级指标
    ws["G24"] = "十二"  # a weight that is not a number, on an otherwise incomplete row

    back = read_workbook(_save(workbook))
    table = back.tables[0]
    assert back.unit == document.unit and back.year == 2024
    assert table.project == document.tables[0].project and table.total == D("1982.45")
    names = [i.name for i in table.indicators]
    assert names == ["发放人数", "发放准确率", "人均补助", "群众生活水平", "参保人员满意度", "新增指标"]
    first, second, new = table.indicators[0], table.indicators[1], table.indicators[-1]
    assert first.weight == D("12") and isinstance(first.weight, Decimal)
    assert (second.level1, second.level2) == ("产出指标", "质量指标")
    assert (new.level1, new.level2, new.target, new.weight) == ("满意度指标", "满意度指标", ">=3 件", D("5"))
    assert [i.line for i in table.indicators] == [11, 12, 14, 15, 16, 20]
    label = "项目“城乡居民基本养老保险基础养老金补助资金（含丧葬费）及其他相关待遇发放经费”"
    assert table.warnings == [
        f"{label}第 22 行：缺少指标值，已跳过。",
        f"{label}第 23 行：缺少三级指标，已跳过。",
        f"{label}第 24 行：缺少三级指标和指标值，已跳过。",
    ]
    # The other sheets are untouched.
    assert comparable(back)[2][1:] == comparable(document)[2][1:]


def test_a_workbook_laid_out_differently_reads_by_labels():
    """A hand-made sheet: shifted columns, label and value in one cell, numbers as text or percentages,
    a vertically merged level 1, unit hints in labels."""
    workbook = Workbook()
    ws = workbook.active
    ws.title = "我的表"
    ws["C2"] = "2023年项目支出绩效目标表"
    ws["C3"] = "预算单位（盖章）：某区财政局"
    ws["C4"], ws["E4"] = "项目名称", "道路养护"
    ws["C5"], ws["D5"] = "项目负责人：", 13800000000
    ws["C6"], ws["D6"], ws["E6"], ws["F6"], ws["G6"], ws["H6"], ws["I6"] = (
        "年度预算总额（万元）", "１２３.４", "其中: 财政拨款", 100, "其他资金", " 23.4 ", "",
    )
    ws.merge_cells("C4:D4")  # the label spans two columns; the value is right of it
    ws["C7"], ws["D7"] = "项目总体目标", "养护道路 120 公里"
    headers = ["一级指标", "二级指标", "三级指标", "指标值", "指标设定依据", "分值权重（分）", "赋分规则"]
    for offset, text in enumerate(headers):
        ws.cell(9, 3 + offset, text)
    rows = [
        ["产出指标", "数量指标", "养护里程", ">=120公里", "计划", 40.5, "按照完成比例赋分"],
        [None, None, "合格率", 0.95, "", "20", ""],
        [None, "时效指标", "完成时间", None, "", 10, ""],
        [None, None, None, None, None, None, None],
        ["效益指标", "社会效益指标", "通行条件", "明显改善", "", "19.50", ""],
    ]
    for r, values in enumerate(rows, start=10):
        for offset, value in enumerate(values):
            ws.cell(r, 3 + offset, value)
    ws.merge_cells("C10:C12")
    ws["F11"].number_format = "0%"
    ws["F12"] = datetime.datetime(2023, 12, 31)
    workbook.create_sheet("附表").append(["随便写点什么"])

    document = read_workbook(_save(workbook))
    assert (document.unit, document.year) == ("某区财政局", 2023)
    assert document.warnings == ["工作表“附表”不是绩效目标表，已跳过。"]
    table = document.tables[0]
    assert (table.project, table.lead, table.overall_goal) == ("道路养护", "13800000000", "养护道路 120 公里")
    assert (table.total, table.fiscal, table.other) == (D("123.40"), D("100.00"), D("23.40"))
    got = [(i.level1, i.level2, i.name, i.target, i.weight, i.line) for i in table.indicators]
    assert got == [
        ("产出指标", "数量指标", "养护里程", ">=120公里", D("40.5"), 10),
        ("产出指标", "数量指标", "合格率", "95%", D("20"), 11),
        ("产出指标", "时效指标", "完成时间", "2023年12月31日", D("10"), 12),
        ("效益指标", "社会效益指标", "通行条件", "明显改善", D("19.50"), 14),
    ]
    assert table.indicators[0].basis == "计划" and table.indicators[0].rule == "按照完成比例赋分"
    assert table.warnings == []


def test_unreadable_money_and_weights_become_warnings():
    document = sample_document()
    workbook = load_workbook(BytesIO(write_workbook(document)))
    ws = workbook.worksheets[0]
    ws["C6"] = "约两千"
    ws["G9"] = "三十"
    back = read_workbook(_save(workbook))
    table = back.tables[0]
    assert table.total is None and table.indicators[0].weight is None
    assert any("年度预算总额" in w and "约两千" in w for w in back.warnings)
    assert any("第 9 行" in w and "三十" in w for w in table.warnings)


def test_unit_and_year_disagreement_is_warned():
    document = sample_document()
    workbook = load_workbook(BytesIO(write_workbook(document)))
    workbook.worksheets[1]["B3"] = "另一个单位"
    workbook.worksheets[1]["A2"] = "（2023 年）"
    back = read_workbook(_save(workbook))
    assert (back.unit, back.year) == (document.unit, 2024)
    assert any("另一个单位" in w for w in back.warnings) and any("2023" in w for w in back.warnings)


def _save(workbook) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _zip(files: dict[str, str]) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件为空"),
        ("预算单位：某局\n项目名称：x\n".encode(), "不是有效的 Excel 文件（.xlsx）"),
        (b"%PDF-1.4 not really", "不是有效的 Excel 文件（.xlsx）"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, ".xls"),
        (_zip({"hello.txt": "hi"}), "没有 Excel 工作簿"),
        (_zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "not xml"}), "不是有效的 Excel 文件（.xlsx）"),
        (_zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"}), "没有 Excel 工作簿"),
    ],
)
def test_bad_files_raise_not_a_disclosure(data, message):
    with pytest.raises(NotADisclosure) as raised:
        read_workbook(data)
    assert message in str(raised.value)


def test_a_workbook_without_a_goal_table_raises():
    workbook = Workbook()
    workbook.active.append(["姓名", "电话"])
    workbook.create_sheet("说明").append(["项目名称", "三级指标"])  # a 说明 sheet never counts
    with pytest.raises(NotADisclosure, match="工作簿中没有找到绩效目标表"):
        read_workbook(_save(workbook))


# ---------------------------------------------------------------------------------------------------
# Property: any reasonable document survives the round trip.

_CJK = "产出效益成本满意度指标数量质量时效社会经济生态可持续影响万元人次件个月年日发放补助保险参保率服务对象群众"
_SYMBOLS = "≥≤=<>%％.,，。、（）()：:；-+/ 　"
_char = st.one_of(
    st.characters(categories=("L", "N", "P", "S", "Zs"), max_codepoint=0x2FFFF),
    st.sampled_from(_CJK + _SYMBOLS),
)
_text = st.text(_char, max_size=25).map(str.strip)
_long_text = st.text(st.one_of(_char, st.just("\n")), max_size=80).map(str.strip)
_nonempty = _text.filter(bool)
_target = st.one_of(
    st.sampled_from([">=95%", "=100%", "<=4.33万元/月", "=12个月", "2024年12月31日前", "有效提升", "#N/A", "=SUM(A1)",
                     "95", "0.5"]),
    _nonempty,
)
_money = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False))
_weight = st.one_of(st.none(), st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False))
_indicator = st.builds(
    ParsedIndicator,
    level1=st.one_of(st.sampled_from(LEVEL1_NAMES), _nonempty),
    level2=st.one_of(st.sampled_from(LEVEL2_NAMES), _nonempty),
    name=_nonempty,
    target=_target,
    basis=_text,
    last_year=_text,
    weight=_weight,
    rule=st.one_of(st.sampled_from(RULES + ("",)), _text),
    evidence=_text,
)
_project = st.builds(
    ParsedTable,
    scope=st.just(PROJECT),
    project=_nonempty,
    lead=st.one_of(st.none(), _nonempty),
    overall_goal=_long_text,
    total=_money,
    fiscal=_money,
    other=_money,
    indicators=st.lists(_indicator, max_size=6),
)
_unit = st.builds(
    ParsedTable,
    scope=st.just(UNIT),
    overall_goal=_long_text,
    total=_money,
    fiscal=_money,
    other=_money,
    fiscal_superior=_money,
    fiscal_local=_money,
    contact=_text,
    phone=st.one_of(_text, st.from_regex(r"0\d{2,3}-\d{7,8}", fullmatch=True)),
    indicators=st.lists(_indicator, min_size=1, max_size=4),
)


@st.composite
def _documents(draw):
    tables = draw(st.lists(_project, max_size=3))
    if draw(st.booleans()):
        tables.insert(draw(st.integers(0, len(tables))), draw(_unit))
    return ParsedDocument(
        unit=draw(_text), year=draw(st.one_of(st.none(), st.integers(2000, 2099))), tables=tables,
    )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents())
def test_round_trip_property(document):
    back = read_workbook(write_workbook(document))
    assert comparable(back) == comparable(document)
    assert all(t.warnings == [] for t in back.tables)


# --- issue 11: each sheet stands alone; money keeps its decimals ----------------------------------------------

def test_money_keeps_three_or_four_decimals():
    document = sample_document()
    document.tables[0].total, document.tables[0].fiscal = D("438.768"), D("400.1234")
    back = read_workbook(write_workbook(document))
    assert (str(back.tables[0].total), str(back.tables[0].fiscal)) == ("438.768", "400.1234")
    assert str(back.tables[0].other) == "82.45" and str(back.tables[2].total) == "3000.00"  # at least 2 places


def test_money_typed_as_text_with_more_than_four_decimals_is_rounded_with_a_warning():
    workbook = load_workbook(BytesIO(write_workbook(sample_document())))
    ws = workbook.worksheets[0]
    ws["C6"] = "1,982.456789"
    back = read_workbook(_save(workbook))
    assert back.tables[0].total == D("1982.4568")
    assert f"工作表“{ws.title}”：“年度预算总额”的金额“1,982.456789”超过 4 位小数，已按 1982.4568 读取。" in back.warnings


def test_a_sheet_that_cannot_be_read_is_an_error_of_its_table_and_the_others_still_read(monkeypatch):
    from kpi.importers import xlsx

    data = write_workbook(sample_document())
    broken = load_workbook(BytesIO(data)).worksheets[0].title
    original = xlsx._Sheet.read

    def read(self):
        if self.ws.title == broken:
            raise ValueError("a damaged cell")
        return original(self)

    monkeypatch.setattr(xlsx._Sheet, "read", read)
    back = read_workbook(data)
    first, second, unit = back.tables
    assert first.indicators == [] and first.errors == [
        f"工作表“{broken}”的内容无法读取（单元格格式异常），该表未导入，其他工作表照常读取；请检查该工作表，或把内容复制到新的模板中再导入。"]
    assert "damaged" not in first.errors[0]
    assert second.project == "就业补助" and second.errors == [] and len(second.indicators) == 2
    assert unit.scope == UNIT and unit.errors == [] and len(unit.indicators) == 2


def test_a_sheet_without_a_target_column_is_an_error_of_that_table():
    workbook = load_workbook(BytesIO(write_workbook(sample_document())))
    ws = workbook.worksheets[0]
    ws["D8"] = "备注"  # the 指标值 header renamed
    back = read_workbook(_save(workbook))
    first, second, _ = back.tables
    assert first.indicators == [] and first.errors == [f"{first.label}第 8 行：表头缺少“指标值”列，该表的指标无法读取。"]
    assert second.errors == [] and len(second.indicators) == 2


def test_a_blank_first_level1_in_a_sheet_is_inferred_by_finalize():
    from kpi.importers.checks import finalize

    workbook = load_workbook(BytesIO(write_workbook(sample_document())))
    ws = workbook.worksheets[0]
    ws["A9"] = None  # the first 一级 cell: nothing above it
    back = finalize(read_workbook(_save(workbook)))
    first = back.tables[0].indicators[0]
    assert (first.level1, first.level2) == ("产出指标", "数量指标")
    assert any("一级指标为空，已按二级指标“数量指标”推断为“产出指标”" in w for w in back.tables[0].warnings)
    assert back.tables[0].errors == []


def test_unit_and_nature_columns_are_read():
    workbook = load_workbook(BytesIO(write_workbook(sample_document())))
    ws = workbook.worksheets[0]
    ws["J8"], ws["K8"] = "计量单位", "指标性质"
    ws["D9"], ws["J9"], ws["K9"] = "6", "万人次", "正向"
    from kpi.importers.checks import finalize

    back = finalize(read_workbook(_save(workbook)))
    first = back.tables[0].indicators[0]
    assert (first.target, first.target_published, first.unit, first.direction) == ("≥6", "6", "万人次", "正向")
