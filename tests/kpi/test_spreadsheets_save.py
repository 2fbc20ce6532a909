"""`kpi.spreadsheets.workbook_bytes` (issue 12): the file `Workbook.save()` writes, its plain rows written as
text; and the memo of `wrapped_lines`."""
import datetime as dt
import io
import zipfile
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.worksheet import _writer as sheet_writer
from openpyxl.worksheet.datavalidation import DataValidation

from kpi import spreadsheets as kit


def _workbook() -> Workbook:
    workbook = Workbook()
    ws = workbook.active
    ws.title = "监控表"
    kit.put(ws, 1, 1, "标题 & <说明>", font=kit.TITLE_FONT, align=kit.CENTER)
    kit.merge_disjoint(ws, 1, 1, 1, 4)
    ws.row_dimensions[1].height = 32
    kit.styled(ws, 2, 1, font=kit.song(10), border=kit.BORDER, number_format=kit.TEXT_FORMAT)  # empty, styled
    kit.set_text(kit.styled(ws, 2, 2, font=kit.song(10)), "  前后有空格 ")  # xml:space="preserve"
    kit.set_text(ws.cell(2, 3), "=100%")  # a formula-like text, stored as text with the quote prefix
    ws.cell(2, 4).value = Decimal("12.5000")
    ws.cell(3, 1).value = 7
    ws.cell(3, 2).value = 0.125
    ws.cell(3, 3).value = "普通文本"
    ws.cell(3, 3).comment = Comment("暂报：截至 2026-06-30", "Jixiao")
    ws.cell(3, 4).value = ""
    ws.cell(4, 1).value = float("nan")
    ws.cell(4, 2).value = -3
    # what the other workbooks add (the actuals template, the published tables, the scorecard export)
    validation = DataValidation(type="list", formula1='"是,否"', allow_blank=True, showErrorMessage=True,
                                error="请从列表中选择。")
    validation.add("A5:A9")
    ws.add_data_validation(validation)
    ws.freeze_panes = "B2"
    ws.column_dimensions["A"].width = 40
    ws.print_options.gridLines = True
    other = workbook.create_sheet("其他")
    other.cell(1, 1).value = "=SUM(1,2)"  # a formula: the library's way for its row
    other.cell(1, 2).value = dt.date(2026, 7, 31)
    other.cell(2, 1).value = "链接"
    other.cell(2, 1).hyperlink = "https://example.org/"
    other.cell(3, 1).value = True
    other.cell(4, 1).value = "仅文本"
    return workbook


def _parts(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


def test_workbook_bytes_is_the_file_save_writes():
    fast = kit.workbook_bytes(_workbook())
    buffer = io.BytesIO()
    _workbook().save(buffer)
    assert _parts(fast) == _parts(buffer.getvalue())
    read = load_workbook(io.BytesIO(fast))
    assert read["监控表"]["B2"].value == "  前后有空格 " and read["监控表"]["D2"].value == 12.5
    assert read["监控表"]["C3"].comment.text == "暂报：截至 2026-06-30"
    assert read["其他"]["A1"].value == "=SUM(1,2)" and read["其他"]["A2"].hyperlink.target == "https://example.org/"


def test_plain_rows_are_written_as_text_the_others_by_the_library(monkeypatch):
    written = []
    library = sheet_writer.write_cell
    monkeypatch.setattr(sheet_writer, "write_cell", lambda xf, ws, cell, styled=None: (
        written.append((ws.title, cell.coordinate)), library(xf, ws, cell, styled))[1])
    kit.workbook_bytes(_workbook())
    # Only the rows of the second sheet with a formula, a date, a hyperlink or a boolean went cell by cell.
    assert {title for title, _ in written} == {"其他"}
    assert sorted(coordinate for _, coordinate in written) == ["A1", "A2", "A3", "B1"]


def test_wrapped_lines_is_the_same_memoised_or_not():
    long_text = "甲" * (kit._MEMO_WRAPPED_UP_TO + 50)
    assert kit.wrapped_lines(long_text, 10) == kit._wrapped_lines.__wrapped__(long_text, 10, 1, 4) == 56
    kit.wrapped_lines("甲" * 9, 10)
    hits = kit._wrapped_lines.cache_info().hits
    assert kit.wrapped_lines("甲" * 9, 10) == 2 and kit._wrapped_lines.cache_info().hits == hits + 1
    assert kit.wrapped_lines(None, 10) == 1


def test_each_workbook_keeps_its_own_style_arrays():
    first, second = Workbook(), Workbook()
    mine = kit.style_cache(first.active)
    assert kit.style_cache(first.active) is mine  # the last workbook asked: no weak-dictionary lookup
    theirs = kit.style_cache(second.active)
    assert theirs is not mine and kit.style_cache(first.active) is mine and kit.style_cache(second.active) is theirs
    kit.styled(first.active, 1, 1, font=kit.song(10))
    assert len(mine) == 1 and theirs == {}
    del first, mine
    third = Workbook()  # may reuse the freed workbook's address: the weak reference tells them apart
    assert kit.style_cache(third.active) == {}
