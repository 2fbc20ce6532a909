"""A file that cannot be read is refused in the user's terms (Chinese: what went wrong, what to do); the
exception itself, with its traceback, goes to the log and never onto the page (issue 15)."""
import io
import logging
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from budgets.models import Role
from budgets.services import membership_grant
from kpi.importers.parsed import NotADisclosure
from kpi.importers.xlsx import read_workbook
from kpi.models import Actual
from kpi.spreadsheets import XlsxRefused, xlsx_check
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

ENGLISH = ("Error", "error", "Traceback", "ValueError", "KeyError", "Unable", "zip", "File is not")


def corrupt_workbook() -> bytes:
    """A zip that looks like a workbook (its content types, an xl/ folder) but whose XML is garbage:
    openpyxl fails on it deep inside."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "not xml at all <")
        archive.writestr("xl/workbook.xml", "garbage")
    return out.getvalue()


def truncated_workbook() -> bytes:
    """A real-looking zip cut short after its central directory was read: its sheet's data is missing."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet>" + "<row/>" * 5000 + "</worksheet>")
    data = bytearray(out.getvalue())
    start = data.index(b"xl/worksheets/sheet1.xml") + 40
    data[start:start + 200] = b"\x00" * 200  # the deflated sheet data is damaged
    return bytes(data)


def _no_english(message: str) -> None:
    assert not [word for word in ENGLISH if word in message], message


def _logged_with_traceback(caplog, logger: str) -> None:
    records = [r for r in caplog.records if r.name == logger]
    assert records and all(r.exc_info and r.exc_info[0] for r in records), records


def test_a_corrupt_goal_table_workbook_is_refused_in_plain_chinese(caplog):
    caplog.set_level(logging.WARNING)
    with pytest.raises(NotADisclosure) as refused:
        read_workbook(corrupt_workbook())
    message = str(refused.value)
    assert message.startswith("不是有效的 Excel 文件（.xlsx）：文件已损坏") and "另存为 .xlsx" in message
    _no_english(message)
    _logged_with_traceback(caplog, "kpi.importers.xlsx")


def test_a_damaged_zip_is_refused_without_the_zip_error(caplog):
    caplog.set_level(logging.WARNING)
    with pytest.raises(XlsxRefused) as refused:
        xlsx_check(truncated_workbook())
    message = str(refused.value)
    assert "已损坏" in message and "另存为 .xlsx" in message
    _no_english(message.replace("xl/worksheets/sheet1.xml", ""))  # a sheet's own name may be quoted
    _logged_with_traceback(caplog, "kpi.spreadsheets")


@pytest.fixture
def unit_admin(db):
    unit = UnitFactory(code="U9101", name="市文旅局")
    table_with_indicators(ProjectFactory(unit=unit, name="文化惠民项目"),
                          rows=[("产出指标", "数量指标", "演出场次", ">=100场", Decimal("40"))])
    admin = UserFactory()
    membership_grant(user=admin, unit=unit, role=Role.ADMIN)
    return unit, admin


def _upload(client, unit, name, data, content_type):
    return client.post(reverse("importers:actuals"), {
        "unit": unit.pk, "year": 2026, "kind": "actuals",
        "file": SimpleUploadedFile(name, data, content_type=content_type),
    })


@pytest.mark.parametrize("name, data, content_type, expected, logger", [
    ("实际完成值.xlsx", corrupt_workbook(),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "文件已损坏", "kpi.importers.actuals"),
    # a cell past the csv module's field limit: csv.Error ("field larger than field limit (131072)")
    ("实际完成值.csv", ("项目名称,三级指标,截至日期,实际完成值\n\"" + "长" * 140_000 + "\",x,2026-07-31,1\n").encode(),
     "text/csv", "CSV 文件格式有误", "kpi.importers.actuals"),
])
def test_an_unreadable_actuals_file_is_refused_in_plain_chinese(client, unit_admin, caplog,
                                                                 name, data, content_type, expected, logger):
    caplog.set_level(logging.WARNING)
    unit, admin = unit_admin
    client.force_login(admin)
    response = _upload(client, unit, name, data, content_type)
    assert response.status_code == 200 and Actual.objects.count() == 0
    page = response.content.decode()
    assert expected in page
    errors = response.context["errors"]
    assert errors and expected in errors[0]
    for error in errors:
        _no_english(error)
    assert "field larger" not in page and "KeyError" not in page and "Traceback" not in page
    _logged_with_traceback(caplog, logger)
