"""The PDF 自评表: its text (pdftotext) and its embedded font (pdffonts), from poppler-utils."""
import shutil
import subprocess
from pathlib import Path

import pytest

from kpi.reports.services import actual_record
from kpi.selfeval import pdf
from kpi.selfeval.data import table_evaluation, unit_evaluation

pytestmark = pytest.mark.django_db

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="pdftotext/pdffonts (poppler-utils) are not installed here; CI installs them",
)


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_fonts(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


@needs_poppler
def test_table_pdf_text_and_embedded_font(world, tmp_path):
    e = table_evaluation(table=world.table)
    data = pdf.table_pdf(e)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data, tmp_path)
    assert "项目支出绩效自评表" in text
    assert "职业技能培训补贴项目" in text
    assert "人均培训成本" in text and "参训人员满意度" in text
    assert str(e.total) in text and f"等级：{e.grade}" in text
    assert "缺失" in text and "不适用" in text
    assert "75.00%" in text  # the execution rate
    pages = text.count("\f")
    compact = text.replace(" ", "")
    assert all(f"第{n}页共{pages}页" in compact for n in range(1, pages + 1))
    fonts = pdf_fonts(data, tmp_path)
    lines = [line for line in fonts.splitlines() if "Noto" in line]
    assert lines, fonts
    assert all(line.split()[-5] == "yes" for line in lines), fonts  # the “emb” column


@needs_poppler
def test_unit_pdf_has_cover_and_every_table(world, tmp_path):
    u = unit_evaluation(unit=world.unit, year=2026)
    text = pdf_text(pdf.unit_pdf(u), tmp_path)
    pages = text.split("\f")
    assert "绩效自评缺失项" in pages[0] and "参训人员满意度" in pages[0]
    assert "部门整体绩效自评表" in pages[1] and "项目支出绩效自评汇总" in pages[1]
    assert any("项目支出绩效自评表" in page and "职业技能培训补贴项目" in page for page in pages[2:])


def test_characters_outside_the_fonts_become_a_box(monkeypatch):
    monkeypatch.setattr(pdf, "FALLBACK_PATH", Path("/nonexistent/NotoSansCJK-Regular.ttc"))
    # 镕 is not in GB2312; U+20000 is in no font here; tabs and control characters are cleaned.
    assert pdf.safe_text("朱镕基\t𠀀\x07项目", fallback=False) == "朱□基 □项目"


def test_a_rare_character_never_breaks_the_report(world, monkeypatch):
    from kpi.models import Indicator

    Indicator.objects.filter(pk=world.indicators[0].pk).update(name="镕𠀀培训人次")
    monkeypatch.setattr(pdf, "FALLBACK_PATH", Path("/nonexistent/NotoSansCJK-Regular.ttc"))
    assert pdf.table_pdf(table_evaluation(table=world.table)).startswith(b"%PDF-")


@pytest.mark.skipif(not pdf.FALLBACK_PATH.exists(), reason=f"{pdf.FALLBACK_PATH} is not installed")
def test_the_installed_cjk_font_is_used_as_fallback(world):
    assert pdf.safe_text("朱镕基𠀀", fallback=True) == "朱镕基□"
    from kpi.models import Indicator

    Indicator.objects.filter(pk=world.indicators[0].pk).update(name="镕培训人次")
    assert pdf.table_pdf(table_evaluation(table=world.table)).startswith(b"%PDF-")


def test_a_group_taller_than_a_page_still_renders(monkeypatch):
    """Merged 一级指标 cells taller than a page cannot be drawn: the rows are then drawn one by one."""
    import datetime as dt
    from decimal import Decimal

    from tests.factories import ProjectFactory, approve_reports, table_with_indicators

    rows = [("产出指标", "数量指标", f"培训班次第{i}期", ">=10个", Decimal("6")) for i in range(15)]
    table, indicators = table_with_indicators(ProjectFactory(), rows=rows)
    for indicator in indicators:
        actual_record(indicator=indicator, as_of=dt.date(2026, 7, 31), value=Decimal("5"),
                               deviation_reason="受场地限制，部分班次延期举办。" * 12)
    approve_reports(table)
    assert pdf.table_pdf(table_evaluation(table=table)).startswith(b"%PDF-")
    assert pdf._Pdf(merge=False, limit=10).safe("一二三四五六七八九十十一") == "一二三四五六七八九十…（全文见 Excel 版）"
