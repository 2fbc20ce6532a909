"""An administrator's year-end in bulk, in a real browser: the template filled with the unit's indicators, a
refused file (every error by row and column), the corrected one, execution per source, and a 自评表 with
nothing missing."""
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from budgets.services import membership_grant
from kpi.goals.services import goal_table_approve
from kpi.models import Actual, Report
from kpi.rescoring.tasks import rescore_table
from tests.e2e.conftest import login
from tests.factories import IMPORTED, ProjectFactory, UnitFactory, UserFactory, rescore_stale, table_with_indicators

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]




def download(page, button: str) -> bytes:
    with page.expect_download() as info:
        page.click(f"#template-form button:has-text('{button}')")
    with open(info.value.path(), "rb") as handle:
        return handle.read()


def filled(data: bytes, values: dict, path) -> str:
    """The downloaded workbook filled in as a person fills it in Excel: {row label: {column: value}}."""
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for column, value in values.get(row[1].value if "三级指标" in header else row[0].value, {}).items():
            row[header.index(column)].value = value
    workbook.save(path)
    return str(path)


def upload(page, path, *, kind="actuals", approve=True):
    page.check(f"#import-form input[name=kind][value={kind}]")
    if approve:
        page.check("#import-form input[name=approve]")
    page.set_input_files("#import-form input[type=file]", path)
    page.click("#import-form button[type=submit]")
    page.wait_for_load_state()


def test_an_administrator_imports_a_year_from_the_filled_templates(browser_page, live_server, monkeypatch, tmp_path):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    page = browser_page
    unit = UnitFactory(name="批量导入测试单位")
    admin = UserFactory(username="bulkadmin")
    membership_grant(user=admin, unit=unit, role="admin")
    project = ProjectFactory(unit=unit, name="培训项目", budget_initial=Decimal("100"), fiscal=Decimal("80"),
                             carryover=Decimal("20"))
    table, _ = table_with_indicators(project, rows=[
        ("产出指标", "数量指标", "培训人次", ">=100人次", Decimal("45")),
        ("满意度指标", "服务对象满意度指标", "满意度", "$\\geq 90\\%$", Decimal("45"), "满意度赋分"),
    ], source=IMPORTED)
    goal_table_approve(table=table)
    login(page, live_server, "bulkadmin")

    page.click("nav >> text=批量导入实际值")
    page.wait_for_load_state()
    page.select_option("#id_template-unit", str(unit.pk))
    page.fill("#id_template-year", "2026")
    page.fill("#id_template-as_of", "2026-12-31")
    template = download(page, "下载 Excel 模板")
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(template)).worksheets[0].iter_rows()]
    assert [r[:4] for r in rows[1:]] == [["培训项目", "培训人次", "人次", "≥100人次"], ["培训项目", "满意度", "%", "≥90%"]]

    # 50 人次 of 100 at year end is a red light: without a reason the whole file is refused, row and column named
    upload(page, filled(template, {"培训人次": {"实际完成值": 50}, "满意度": {"实际完成值": "95"}}, tmp_path / "a.xlsx"))
    errors = page.locator("#import-errors").inner_text()
    assert "文件未导入，未写入任何数据" in errors
    assert "第 2 行（偏差原因）：该指标进度偏离目标（红灯），请填写偏差原因。" in errors
    assert "第 2 行（偏差原因类别）：请选择偏差原因类别。" in errors
    assert not Actual.objects.exists()

    page.select_option("#id_template-unit", str(unit.pk))
    page.fill("#id_template-as_of", "2026-12-31")
    template = download(page, "下载 Excel 模板")
    upload(page, filled(template, {
        "培训人次": {"实际完成值": 50, "偏差原因类别": "经费保障", "偏差原因": "资金下半年才到位", "是否需要整改": "是",
                   "整改措施": "明年提前拨付"},
        "满意度": {"实际完成值": "95%"},
    }, tmp_path / "b.xlsx"))
    summary = page.locator("#import-summary").inner_text()
    assert "记录实际完成值 2 条" in summary and "审核通过填报 1 份" in summary
    assert Report.objects.get().status == Report.Status.APPROVED

    # execution per source, from the template of the unit's projects
    page.check("#template-form input[name=template-kind][value=execution]")
    page.fill("#id_template-as_of", "2026-12-31")
    template = download(page, "下载 Excel 模板")
    upload(page, filled(template, {"培训项目": {"执行数": 95, "本年财政拨款执行数": 75, "上年结转执行数": 20}},
                        tmp_path / "c.xlsx"), kind="execution", approve=False)
    assert "记录执行数 1 条" in page.locator("#import-summary").inner_text()

    rescore_stale()  # what the rescore task does after the import
    page.goto(f"{live_server.url}/selfeval/units/{unit.pk}/2026/")
    content = page.content()
    assert "缺失项（0 项）" in content and "无缺失项。" in content
    assert "评分政策：默认评分政策" in content
    with page.expect_download() as info:
        page.click("text=Excel >> nth=0")
    with open(info.value.path(), "rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    sheet = book.worksheets[0]
    assert [sheet.cell(row=r, column=5).value for r in range(6, 10)] == [95, 75, 20, 0]  # 全年执行数 per source
    assert not [c.value for row in sheet.iter_rows() for c in row if c.value == "缺失"]
