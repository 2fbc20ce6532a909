"""An uploaded .xlsx is refused before any parser sees it when it would expand past the limits (issue 15):
uncompressed size, sheets, cells (each sheet's <dimension>), a zip-bomb ratio, or when it is no zip at all."""
import io
import struct
import time
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from budgets.models import Role
from budgets.services import membership_grant
from kpi import spreadsheets
from kpi.importers import xlsx as template_reader
from kpi.importers.actuals import ActualsImportError, actuals_import
from kpi.importers.parsed import NotADisclosure
from kpi.importers.services import document_read
from kpi.models import Actual, ImportJob
from kpi.spreadsheets import XlsxLimits, XlsxRefused, xlsx_check
from tests.factories import UnitFactory, UserFactory

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                 b'2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')


def sheet_xml(ref: str | None = "A1:B2", *, filler: bytes = b"") -> bytes:
    dimension = f'<dimension ref="{ref}"/>'.encode() if ref else b""
    return (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main">' + dimension + b"<sheetData>" + filler + b"</sheetData></worksheet>")


def fake_xlsx(*, sheets: int = 1, ref: str | None = "A1:B2", extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        for number in range(1, sheets + 1):
            archive.writestr(f"xl/worksheets/sheet{number}.xml", sheet_xml(ref))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def declared_larger(data: bytes, size: int) -> bytes:
    """The zip with the last member's uncompressed size, as its central directory declares it, set to `size`."""
    at = data.rindex(b"PK\x01\x02")
    return data[:at + 24] + struct.pack("<I", size) + data[at + 28:]


def refusal(data: bytes, **limits) -> str:
    started = time.perf_counter()
    with pytest.raises(XlsxRefused) as refused:
        xlsx_check(data, limits=XlsxLimits(**limits))
    assert time.perf_counter() - started < 1
    return str(refused.value)


@pytest.fixture
def no_openpyxl(monkeypatch):
    """openpyxl is never asked to read a refused file."""
    def forbidden(*args, **kwargs):
        raise AssertionError("openpyxl.load_workbook called on a refused file")

    monkeypatch.setattr(openpyxl, "load_workbook", forbidden)
    monkeypatch.setattr(template_reader, "load_workbook", forbidden)


# --- the check itself (pure) -------------------------------------------------------------------------

def test_a_small_workbook_passes_and_so_does_a_real_one():
    xlsx_check(fake_xlsx(sheets=3, ref="A1:Z9999"))
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "项目名称"
    out = io.BytesIO()
    workbook.save(out)
    xlsx_check(out.getvalue())


def test_a_sheet_whose_dimension_is_the_whole_grid_is_refused():
    message = refusal(fake_xlsx(ref="A1:XFD1048576"))
    assert "表格过大" in message and "单元格" in message and "2,000,000" in message


def test_cells_are_counted_over_every_sheet():
    assert "单元格" in refusal(fake_xlsx(sheets=3, ref="A1:J100000"))  # 3 × 1,000,000
    xlsx_check(fake_xlsx(sheets=2, ref="A1:J100000"))


def test_sixty_sheets_are_refused():
    message = refusal(fake_xlsx(sheets=60))
    assert message == "表格过大：共 60 个工作表，超过上限 50 个。"


def test_a_member_declared_huge_is_refused_from_the_central_directory():
    data = declared_larger(fake_xlsx(extra={"xl/media/image1.png": b"x" * 100}), 3_000_000_000)
    message = refusal(data)
    assert message.startswith("表格过大：解压后 2861.0 MB，超过上限 100 MB。")


def test_a_highly_compressible_member_is_a_zip_bomb():
    data = fake_xlsx(extra={"xl/sharedStrings.xml": b"\0" * (4 * 1024 * 1024)})
    assert len(data) < 50_000
    message = refusal(data)
    assert "压缩比" in message and "压缩炸弹" in message and "xl/sharedStrings.xml" in message


def test_the_limits_may_be_lowered():
    assert "超过上限 1 MB" in refusal(fake_xlsx(extra={"xl/a.xml": b"<a/>" * 300_000}), max_uncompressed_bytes=2**20,
                                      max_ratio=10_000)
    assert "超过上限 2 个" in refusal(fake_xlsx(sheets=3), max_sheets=2)


@pytest.mark.parametrize("data", [b"", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", b"%PDF-1.7", "项目名称,三级指标".encode()])
def test_what_is_not_a_zip_is_refused_with_a_clear_message(data):
    assert refusal(data).startswith("不是有效的 Excel 文件（.xlsx）：文件内容不是 Excel 工作簿")


def test_only_the_head_of_a_sheet_is_read(monkeypatch):
    # A sheet of 50 MB of rows: its <dimension> is found in the first bytes, the rest never decompressed.
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (n, n) for n in range(1, 1_200_001))
    data = fake_xlsx(extra={"xl/worksheets/sheet2.xml": sheet_xml("A1:XFD1048576", filler=rows)})
    sizes = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        member = real_open(self, name, *args, **kwargs)
        real_read = member.read
        member.read = lambda n=-1: sizes.append(n) or real_read(n)
        return member

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    assert "单元格" in refusal(data, max_ratio=10_000)
    assert sizes and all(0 < n <= spreadsheets.XLSX_DIMENSION_READ for n in sizes)


# --- every reader of an uploaded .xlsx applies it ------------------------------------------------------

def test_the_template_reader_refuses_before_openpyxl(no_openpyxl):
    with pytest.raises(NotADisclosure, match="共 60 个工作表"):
        template_reader.read_workbook(fake_xlsx(sheets=60))


@pytest.mark.django_db
def test_the_worker_read_refuses_with_the_settings_limits(no_openpyxl, settings):
    settings.JIXIAO_XLSX_MAX_SHEETS = 3
    with pytest.raises(NotADisclosure, match="共 4 个工作表，超过上限 3 个"):
        document_read(data=fake_xlsx(sheets=4), filename="目标表.xlsx")


@pytest.mark.django_db
def test_the_actuals_import_refuses_before_openpyxl(no_openpyxl):
    unit = UnitFactory()
    with pytest.raises(ActualsImportError) as refused:
        actuals_import(unit=unit, year=2026, rows_source=fake_xlsx(ref="A1:XFD1048576"), filename="实际完成值.xlsx",
                       user=None)
    assert "单元格" in refused.value.errors[0]
    assert Actual.objects.count() == 0


def _administrator():
    unit = UnitFactory()
    user = UserFactory()
    membership_grant(user=user, unit=unit, role=Role.ADMIN)
    return unit, user


@pytest.mark.django_db
def test_the_goal_table_upload_page_refuses_and_stores_nothing(client, no_openpyxl):
    _, user = _administrator()
    client.force_login(user)
    upload = SimpleUploadedFile("目标表.xlsx", fake_xlsx(ref="A1:XFD1048576"))
    started = time.perf_counter()
    response = client.post(reverse("importers:upload"), {"file": upload})
    assert time.perf_counter() - started < 2
    assert response.status_code == 200
    assert "表格过大：按工作表范围估算共约" in response.content.decode()
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_the_actuals_upload_page_refuses_and_records_nothing(client, no_openpyxl):
    unit, user = _administrator()
    client.force_login(user)
    upload = SimpleUploadedFile("实际完成值.xlsx", fake_xlsx(sheets=60))
    response = client.post(reverse("importers:actuals"),
                           {"unit": unit.pk, "year": 2026, "kind": "actuals", "file": upload})
    assert response.status_code == 200
    assert "表格过大：共 60 个工作表，超过上限 50 个。" in response.content.decode()
    assert Actual.objects.count() == 0
