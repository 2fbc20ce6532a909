"""The lead's report page in a real browser, as the lead and the administrator use it: values typed as people
type them, evidence uploaded after typing, submit, withdraw, a return naming one indicator, a correction of
that one field, approval; and the page on a 390 px phone screen."""
import datetime as dt
import re
from decimal import Decimal

import pytest

from budgets.services import membership_grant
from kpi.models import Actual, Evidence, Report
from kpi.rescoring.tasks import rescore_table
from tests.e2e.conftest import login
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
JULY = dt.date(2026, 7, 31)
ROWS = [
    ("产出指标", "数量指标", "参保人数", ">=30000人", Decimal("40")),
    ("产出指标", "数量指标", "培训人次", ">=100人次", Decimal("20")),
    ("满意度指标", "满意度指标", "参保群众满意度", "$\\geq 90\\%$", Decimal("30"), "满意度赋分"),
]
REASON = "参保人数与台账不符，请核对后重报"


@pytest.fixture(autouse=True)
def quiet(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world():
    unit = UnitFactory(name="浏览器填报单位")
    lead = UserFactory(username="lead-e2e", last_name="王", first_name="芳")
    admin = UserFactory(username="admin-e2e", last_name="刘", first_name="敏")
    membership_grant(user=lead, unit=unit, role="lead")
    membership_grant(user=admin, unit=unit, role="admin")
    project = ProjectFactory(unit=unit, lead=lead, name="社保卡服务项目")
    table, indicators = table_with_indicators(project, rows=ROWS)
    return {"table": table, "people": indicators[0], "training": indicators[1], "satisfaction": indicators[2]}




def logout(page):
    page.click("header >> text=退出")
    page.wait_for_load_state()


def field(page, indicator, name="value"):
    return page.locator(f"[name='i{indicator.pk}-{name}']")


def row(page, indicator):
    return page.locator(f"#i{indicator.pk}")


def test_a_lead_reports_is_returned_corrects_one_field_and_the_administrator_approves(
        browser_page, live_server, world, tmp_path):
    page = browser_page
    table, people, training, satisfaction = (world[k] for k in ("table", "people", "training", "satisfaction"))
    report_url = f"{live_server.url}/tables/{table.pk}/report/?as_of=2026-07-31"
    login(page, live_server, "lead-e2e")
    page.goto(report_url)
    assert "≥90%" in row(page, satisfaction).inner_text()  # the target as a person writes it

    # 3.1万 in a 人 field, a rate of 101: the rate is refused beside its field, the 万 is read with a note
    field(page, people).fill("3.1万")
    field(page, training).fill("80")
    field(page, training, "deviation_category").select_option("经费保障")
    field(page, training, "deviation_reason").fill("培训经费七月才到位")
    field(page, satisfaction).fill("101")
    page.click(".actions button:has-text('保存草稿')")
    page.wait_for_load_state()
    assert "不能超过 100%" in row(page, satisfaction).inner_text()
    assert "“3.1万”已按 31000人 读取" in row(page, people).inner_text()
    assert field(page, people).input_value() == "3.1万" and field(page, training).input_value() == "80"
    assert not Actual.objects.exists()

    # typing, then uploading evidence: what was typed survives, the result shows beside the row
    field(page, satisfaction).fill("95")
    evidence = tmp_path / "签到表.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    row(page, training).locator("input[type=file]").set_input_files(str(evidence))
    row(page, training).locator("button:has-text('上传')").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"#i{training.pk}")
    assert "已上传“签到表.pdf”" in row(page, training).inner_text()
    assert row(page, training).locator(".result").is_visible()
    box = row(page, training).bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"]  # scrolled to the row the user was working on
    assert field(page, satisfaction).input_value() == "95" and field(page, people).input_value() == "3.1万"
    assert Evidence.objects.count() == 1 and not Actual.objects.exists()
    # 删除 asks first (static/js/confirm.js: no inline handler under the CSP); dismissed, nothing is deleted
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    row(page, training).locator("button:has-text('删除')").click()
    page.wait_for_timeout(300)
    assert asked == ["删除佐证资料“签到表.pdf”？"] and Evidence.objects.count() == 1

    # submit: the page turns read-only, with 撤回 offered
    page.click("button:has-text('保存并提交审核')")
    page.wait_for_load_state()
    assert "已保存 3 项并提交审核" in page.content()
    assert page.locator("input[name$='-value']").count() == 0
    assert page.locator("button:has-text('保存草稿')").count() == 0
    assert "31000 人" in row(page, people).inner_text() and "已提交" in row(page, people).inner_text()

    # withdraw, then resubmit unchanged
    page.click("button:has-text('撤回')")
    page.wait_for_load_state()
    assert "已撤回" in page.content()
    assert field(page, people).input_value() == "31000"
    page.click("button:has-text('保存并提交审核')")
    page.wait_for_load_state()
    assert "已提交审核" in page.content()
    logout(page)

    # the administrator returns it, naming 参保人数
    login(page, live_server, "admin-e2e")
    page.goto(report_url)
    review = page.locator("#review")
    assert review.locator("button:has-text('审核通过')").is_visible()
    assert page.locator("input[name$='-value']").count() == 0  # a reviewer sees values, not an entry form
    review.locator("textarea[name=reason]").fill(REASON)
    review.locator(f"input[name=indicators][value='{people.pk}']").check()
    review.locator("button:has-text('退回')").click()
    page.wait_for_load_state()
    assert "已退回" in page.content()
    logout(page)

    # the lead opens the same date: the values are there, the reason at the top and beside 参保人数
    login(page, live_server, "lead-e2e")
    page.goto(report_url)
    assert REASON in page.locator("#returned").inner_text()
    assert f"退回原因：{REASON}" in row(page, people).inner_text()
    assert REASON not in row(page, training).inner_text()
    assert field(page, people).input_value() == "31000"
    assert field(page, training).input_value() == "80" and field(page, satisfaction).input_value() == "95"
    assert field(page, training, "deviation_reason").input_value() == "培训经费七月才到位"
    field(page, people).fill("30500")
    page.click("button:has-text('保存并提交审核')")
    page.wait_for_load_state()
    assert "已保存 3 项并提交审核" in page.content()
    logout(page)

    # the administrator approves
    login(page, live_server, "admin-e2e")
    page.goto(report_url)
    page.locator("#review button:has-text('审核通过')").click()
    page.wait_for_load_state()
    assert "已审核通过" in page.content()
    history = page.locator("h2:has-text('填报记录') + div table").inner_text()
    assert "已退回" in history and "已审核" in history and REASON in history

    approved = Report.objects.get(table=table, status=Report.Status.APPROVED)
    assert {a.indicator_id: a.value for a in approved.actuals.all()} == {
        people.pk: Decimal("30500"), training.pk: Decimal("80"), satisfaction.pk: Decimal("95")}
    returned = Report.objects.get(table=table, status=Report.Status.RETURNED)
    assert returned.review_indicators == [people.pk]
    assert returned.actuals.get(indicator=people).value == Decimal("31000")  # both versions kept


def test_the_execution_form_keeps_what_was_typed_on_an_error(browser_page, live_server, world):
    page = browser_page
    table = world["table"]
    login(page, live_server, "admin-e2e")
    page.goto(f"{live_server.url}/tables/{table.pk}/report/?as_of=2026-07-31")
    form = page.locator("#execution")
    form.locator("[name=executed]").fill("46")
    form.locator("[name=executed_fiscal]").fill("40")
    form.locator("[name=executed_carryover]").fill("6")
    form.locator("[name=budget_adjusted]").fill("120")
    form.locator("[name=budget_fiscal]").fill("100")
    form.locator("[name=budget_carryover]").fill("20")
    form.locator("button:has-text('保存预算执行')").click()
    page.wait_for_load_state()
    form = page.locator("#execution")
    assert "调整全年预算数时必须填写调整原因" in form.inner_text()
    assert form.locator("[name=executed]").input_value() == "46"
    assert form.locator("[name=budget_adjusted]").input_value() == "120"
    assert form.locator("[name=budget_carryover]").input_value() == "20"
    form.locator("[name=adjustment_reason]").fill("年中追加")
    form.locator("button:has-text('保存预算执行')").click()
    page.wait_for_load_state()
    assert re.search(r"已记录截至 2026-07-31 的累计执行数 46 万元.*全年预算数调整为 120 万元", page.content())
    table.project.refresh_from_db()
    assert (table.project.budget_adjusted, table.project.carryover_adjusted) == (Decimal("120"), Decimal("20"))


def test_the_report_page_fits_a_390_px_phone(browser_page, live_server, world):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "lead-e2e")
    page.goto(f"{live_server.url}/tables/{world['table'].pk}/report/?as_of=2026-07-31")
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    people = row(page, world["people"])
    assert people.bounding_box()["width"] <= 390
    # one card per indicator, each cell saying what it is
    assert page.evaluate("getComputedStyle(document.querySelector('.entry-grid thead')).display") == "none"
    label = people.locator("td").nth(1).evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"指标值"'

    field(page, world["people"]).fill("31000")
    page.click(".actions button:has-text('保存草稿')")
    page.wait_for_load_state()
    assert "已保存 1 项" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") == 390
