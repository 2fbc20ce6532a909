"""A project's lead writes a goal table in a real browser: a target typed is read and explained beside the row,
the weight sum follows live, a row is added and another removed without a reload, and the save keeps them."""
from decimal import Decimal
from pathlib import Path

import pytest

from budgets.services import membership_grant
from kpi.library.services import library_sync_tables
from kpi.models import Indicator
from kpi.rescoring.tasks import rescore_table
from tests.e2e.conftest import login
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots")


def test_a_lead_writes_rows_with_live_summaries_and_saves(browser_page, live_server, monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    page = browser_page
    unit = UnitFactory(name="浏览器编制单位")
    lead = UserFactory(username="editor-lead", first_name="王芳")
    membership_grant(user=lead, unit=unit, role="lead")
    project = ProjectFactory(unit=unit, lead=lead, name="浏览器培训项目")
    table, indicators = table_with_indicators(project)
    other, _ = table_with_indicators(ProjectFactory(unit=unit, name="往年就业项目"), rows=[
        ("效益指标", "社会效益指标", "就业率", ">=85%", Decimal("30")),
    ])
    library_sync_tables([table.pk, other.pk])
    login(page, live_server, "editor-lead")

    page.goto(f"{live_server.url}/units/tables/{table.pk}/edit/")
    assert page.locator("#weight-sum").inner_text() == "90"
    # the 合格率 row: a new target is read as it is typed
    target = page.locator("input[name='rows-1-target_raw']")
    target.fill("")
    target.type("> =98%")
    summary = page.locator("tr.indicator-row").nth(1).locator(".target-summary")
    summary.filter(has_text="正向，≥98%，按完成比例赋分").wait_for()
    page.fill("input[name='rows-1-weight']", "25")
    assert page.locator("#weight-sum").inner_text() == "95"
    assert "off" in page.locator("#weight-sum").get_attribute("class")

    # a row added without a reload: its rule is filled from its target's kind
    marker = page.evaluate("() => (window.__noReload = 1)")
    page.click("#add-row")
    new_row = page.locator("tr.indicator-row").nth(4)  # the blank rows of the no-JS form are gone
    new_row.locator("[name$='-level1']").fill("效益指标")
    new_row.locator("[name$='-level2']").fill("可持续影响指标")
    new_row.locator("[name$='-name']").fill("长效机制建设")
    new_row.locator("[name$='-target_raw']").type("有效提升")
    new_row.locator(".target-summary").filter(has_text="定性，有效提升，按评判等级赋分").wait_for()
    assert new_row.locator("[name$='-rule']").input_value() == "按评判等级赋分"
    new_row.locator("[name$='-weight']").fill("0")
    # 人均成本 removed: the sum drops by its 20
    page.locator("tr.indicator-row").nth(2).locator(".remove-row").click()
    assert page.locator("#weight-sum").inner_text() == "75"
    # 满意度 moved to the top (the removed row is skipped over)
    satisfaction = page.locator("tr.indicator-row", has=page.locator("input[value='满意度']"))
    for _ in range(3):
        satisfaction.locator(".move-up").click()
    assert page.locator("input[name$='-ORDER']").first.input_value() == "1"
    assert satisfaction.locator("[name$='-ORDER']").input_value() == "1"
    # the 指标库 picker adds a row with the entry's defaults
    page.fill("#library-q", "就业")
    page.locator("#library-results button.library-add").first.click()
    picked = page.locator("tr.indicator-row").nth(5)
    assert picked.locator("[name$='-name']").input_value() == "就业率"
    assert picked.locator("[name$='-target_raw']").input_value() == ">=85%"
    picked.locator(".target-summary").filter(has_text="正向，≥85%，按完成比例赋分").wait_for()
    picked.locator("[name$='-weight']").fill("15")
    assert page.locator("#weight-sum").inner_text() == "90"
    assert page.evaluate("() => window.__noReload") == marker  # still the same page
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "editor.png"), full_page=True)

    page.click("button[type=submit].primary")
    page.wait_for_url(f"**/units/tables/{table.pk}/edit/?saved=1")
    assert "绩效目标表已保存" in page.content() and "指标质量审核" in page.content()
    rows = list(Indicator.objects.filter(table=table).order_by("order").values_list("name", "target_raw", "rule"))
    assert rows == [
        ("满意度", ">=90%", "满意度赋分"),
        ("培训人次", ">=100人次", "按照完成比例赋分"),
        ("合格率", "> =98%", "按照完成比例赋分"),
        ("长效机制建设", "有效提升", "按评判等级赋分"),
        ("就业率", ">=85%", "按照完成比例赋分"),
    ]
    assert Indicator.objects.get(table=table, name="合格率").weight == Decimal("25")
