"""The hand-written table layout of the PDF 自评表 (kpi/selfeval/grid.py): wrapping, merged cells, page breaks."""
import shutil
import subprocess
from functools import lru_cache

import pytest
from fpdf.enums import MethodReturnValue, WrapMode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.selfeval import grid as grid_module
from kpi.selfeval import pdf
from kpi.selfeval.grid import wrap

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="pdftotext/pdffonts (poppler-utils) are not installed here; CI installs them",
)

PAD = 1.2
TEXT = st.text(alphabet=st.sampled_from(list("绩效目标自评表培训人次满意度ABCxyz0123 ，。（）%\n")), max_size=80)


@lru_cache(maxsize=1)
def measuring_pdf() -> pdf._Pdf:
    """One PDF to measure with (adding the fonts is the slow part)."""
    document = pdf._Pdf()
    document.add_page()
    return document


def to_units(document, mm: float) -> float:
    return mm * document.k * 1000 / document.font_size_pt


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, width=st.floats(min_value=8, max_value=90))
def test_lines_break_where_fpdf2_breaks_them(text, width):
    """The lines are those fpdf2's multi_cell (WrapMode.CHAR, the cell padding of the forms) gives."""
    document = measuring_pdf()
    ours = [line for line, _ in wrap(text, to_units(document, width - 2 * PAD), document.measure.glyph)]
    theirs = document.multi_cell(width, pdf.LINE, text, dry_run=True, output=MethodReturnValue.LINES,
                                 wrapmode=WrapMode.CHAR, padding=(1, PAD))
    assert ours == (theirs or [""])


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("一二三四五六七八九十项目资金ABCDE12345（）")), min_size=1,
                    max_size=200),
       limit=st.integers(min_value=1000, max_value=40000))
def test_long_cjk_text_wraps_inside_its_width(text, limit):
    """No line is wider than the cell (but for a single character wider than the cell), nothing is lost or
    reordered, and every line is as long as it can be."""
    document = measuring_pdf()
    glyph = document.measure.glyph
    lines = wrap(text, limit, glyph)
    assert "".join(line for line, _ in lines) == text
    for number, (line, width) in enumerate(lines):
        assert width == sum(glyph(c)[1] for c in line)
        assert width <= limit or len(line) == 1
        if number + 1 < len(lines):
            assert width + glyph(lines[number + 1][0][0])[1] > limit  # the next character did not fit


def test_newlines_break_lines_and_a_final_one_adds_none():
    glyph = measuring_pdf().measure.glyph
    assert [line for line, _ in wrap("项目资金\n（万元）\n", 100000, glyph)] == ["项目资金", "（万元）"]
    assert [line for line, _ in wrap("甲\n\n乙", 100000, glyph)] == ["甲", "", "乙"]
    assert wrap("", 1000, glyph) == [("", 0)]


def laid_out(widths, rows):
    """A Grid of `rows` (lists of (text, colspan, rowspan)) and its row heights."""
    document = pdf._Pdf()
    document.add_page()
    table = document.grid(widths)
    for cells in rows:
        row = table.row()
        for text, colspan, rowspan in cells:
            row.cell(text, colspan=colspan, rowspan=rowspan)
    laid = table._columns()
    heights, ends = table._heights(laid)
    return table, laid, heights, ends


def test_a_long_text_makes_its_row_taller_and_a_merged_cell_shares_its_height():
    long = "偏差原因分析及改进措施" * 6
    _, laid, heights, ends = laid_out((20, 30, 40), [
        [("产出指标", 1, 3), ("数量", 1, 1), (long, 1, 1)],
        [("质量", 1, 1), ("短", 1, 1)],
        [("时效", 1, 1), ("短", 1, 1)],
    ])
    lines = len(laid[0][2].lines)
    assert lines > 1
    assert heights[0] == pytest.approx(lines * pdf.LINE + 2)  # padding 1 mm above and below
    assert heights[1] == heights[2] == pytest.approx(pdf.LINE + 2)
    assert ends == [3, 2, 3]  # the first row stays on a page with the two its merged cell spans
    assert [x.column for x in laid[1]] == [1, 2]  # the merged cell covers column 0 of the rows below

    # a merged cell taller than its rows: the extra height is shared evenly by the rows it spans
    _, laid, heights, _ = laid_out((20, 30), [
        [("\n".join("一二三四五六"), 1, 2), ("甲", 1, 1)],
        [("乙", 1, 1)],
    ])
    assert sum(heights) == pytest.approx(6 * pdf.LINE + 2)
    assert heights[0] == pytest.approx(heights[1])


@needs_poppler
def test_a_table_longer_than_a_page_breaks_and_repeats_its_heading(tmp_path):
    document = pdf._Pdf()
    document.add_page()
    with document.grid((20, 160), headings=True) as table:
        heading = table.row()
        heading.cell("序号")
        heading.cell("缺失项")
        for number in range(1, 121):
            row = table.row()
            row.cell(str(number))
            row.cell(f"指标“培训人次{number}”：缺少偏差原因分析及改进措施")
    path = tmp_path / "long.pdf"
    path.write_bytes(bytes(document.output()))
    pages = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")[:-1]
    assert len(pages) >= 3
    assert all("序号" in page and "缺失项" in page for page in pages)
    seen = [line.split()[0] for page in pages for line in page.splitlines()
            if line.split() and line.split()[0].isdigit() and "培训人次" in line]
    assert seen == [str(n) for n in range(1, 121)]  # every row once, in order, none cut across pages


def test_a_merged_group_taller_than_a_page_is_refused_as_fpdf2_did():
    document = pdf._Pdf()
    document.add_page()
    with pytest.raises(ValueError, match="too high"), document.grid((20, 160)) as table:
        for number in range(60):
            row = table.row()
            if number == 0:
                row.cell("产出指标", rowspan=60)
            row.cell(f"第{number}行")


@needs_poppler
def test_a_character_only_the_fallback_font_has_embeds_it_and_only_then(world, tmp_path):
    from kpi.models import Indicator
    from kpi.selfeval.data import table_evaluation

    if not pdf.FALLBACK_PATH.exists():
        pytest.skip(f"{pdf.FALLBACK_PATH} is not installed")

    def fonts_and_text(data):
        path = tmp_path / "f.pdf"
        path.write_bytes(data)
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        return [line for line in fonts.splitlines()[2:] if line.strip()], text

    plain = table_evaluation(table=world.table)
    fonts, _ = fonts_and_text(pdf.table_pdf(plain))
    assert len(fonts) == 1
    Indicator.objects.filter(pk=world.indicators[0].pk).update(name="镕培训人次")
    rare = table_evaluation(table=world.table)
    fonts, text = fonts_and_text(pdf.table_pdf(rare))
    assert len(fonts) == 2 and all(line.split()[-5] == "yes" for line in fonts)  # both embedded
    assert "镕培训人次" in text
    # the same with a batch's fonts: the kit has a fallback font, only the PDF that needs it embeds it
    kit = pdf.font_kit(texts=[*pdf.evaluation_texts(plain), *pdf.evaluation_texts(rare)], folder=tmp_path)
    assert kit.fallback is not None
    assert len(fonts_and_text(pdf.table_pdf(plain, kit=kit))[0]) == 1
    fonts, text = fonts_and_text(pdf.table_pdf(rare, kit=kit))
    assert len(fonts) == 2 and "镕培训人次" in text


def test_the_width_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(grid_module, "_WIDTHS", {(f"font{n}",): {} for n in range(grid_module._WIDTHS_KEPT)})
    document = pdf._Pdf()
    assert len(grid_module._WIDTHS) == 1 and document.measure.cache is next(iter(grid_module._WIDTHS.values()))
