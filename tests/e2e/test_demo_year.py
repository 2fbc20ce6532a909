"""A whole year of the demo unit in a real browser, with a real Celery worker scoring behind it.

The lead reports the year, is returned, corrects the one field the administrator named and resubmits; the
administrator approves from the review queue, records the year's execution per source and closes the
year; the project's 绩效自评表 of that year then has nothing missing.
"""
import io
import time

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from kpi.models import GoalTable, Report
from tests.e2e.conftest import login
from tests.kpi.test_worker_e2e import worker  # noqa: F401 (a fixture: a real Celery worker process)

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PASSWORD = "jixiao-demo-2026"  # the demo's published password
PROJECT = "城乡居民养老保险待遇发放服务项目"
YEAR_END = "2026-12-31"
# What the lead reports at year end, indicator by indicator (all targets met: no deviation to explain).
NUMBERS = {"待遇领取人员资格认证人数": "3.3万", "待遇按时足额发放率": "100", "单人次认证服务成本": "1.45",
           "待遇发放差错率": "0.2", "待遇领取人员满意度": "92"}
RETURN_REASON = "满意度请按第三方测评报告的数值填写"


def sign_in(page, live_server, username):
    login(page, live_server, username, PASSWORD)


def wait_until(page, url, text_absent, timeout=90):
    """Reload a page until the worker has caught up (as a person would, with 刷新)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if text_absent not in page.content():
            return
        assert time.monotonic() < deadline, f"{url} still says {text_absent}"
        time.sleep(1)


def test_a_whole_demo_year(browser_page, live_server, worker, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", verbosity=0)
    page = browser_page
    table = GoalTable.objects.get(project__name=PROJECT)
    indicators = {i.name: i for i in table.indicators.all()}
    report_url = f"{live_server.url}/tables/{table.pk}/report/?as_of={YEAR_END}"

    # The lead reports the whole year and submits it.
    sign_in(page, live_server, "wangfang")
    page.goto(report_url)
    for name, typed in NUMBERS.items():
        page.fill(f"[name='i{indicators[name].pk}-value']", typed)
    page.select_option(f"[name='i{indicators['待遇发放完成时间'].pk}-met']", "1")
    graded = indicators["参保群众办事便利度"].pk
    page.select_option(f"[name='i{graded}-grade']", "达成年度指标")
    page.fill(f"[name='i{graded}-points']", "15")
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert "并提交审核" in page.content()
    assert page.locator(f"[name='i{indicators['待遇领取人员满意度'].pk}-value']").count() == 0  # read-only now

    # The administrator opens it from the queue and returns it, naming the satisfaction indicator.
    sign_in(page, live_server, "liumin")
    assert "待审核" in page.locator("header nav").inner_text()
    page.click("header nav >> text=待审核")
    page.wait_for_load_state()
    row = page.locator("table.queue tr", has_text=PROJECT).filter(has_text=YEAR_END)
    row.locator("text=打开审核").click()
    page.wait_for_load_state()
    page.fill("#review textarea[name=reason]", RETURN_REASON)
    page.check(f"#review input[name=indicators][value='{indicators['待遇领取人员满意度'].pk}']")
    page.click("#review button[value=return]")
    page.wait_for_load_state()
    assert "已退回" in page.content()

    # The lead finds the values and the reason beside the indicator, changes that one field, resubmits.
    sign_in(page, live_server, "wangfang")
    page.goto(report_url)
    satisfaction = page.locator(f"[name='i{indicators['待遇领取人员满意度'].pk}-value']")
    assert satisfaction.input_value() == "92"
    assert page.locator(f"[name='i{indicators['单人次认证服务成本'].pk}-value']").input_value() == "1.45"
    assert RETURN_REASON in page.locator(f"#i{indicators['待遇领取人员满意度'].pk}").inner_text()
    satisfaction.fill("93.5")
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert "并提交审核" in page.content()

    # The administrator approves from the queue and records the year's execution per source.
    sign_in(page, live_server, "liumin")
    page.goto(f"{live_server.url}/reviews/")
    page.locator("table.queue tr", has_text=PROJECT).filter(has_text=YEAR_END).locator("text=打开审核").click()
    page.wait_for_load_state()
    page.click("#review button[value=approve]")
    page.wait_for_load_state()
    assert "已审核通过" in page.content()
    page.goto(report_url)
    page.fill("[name=executed]", "48.60")
    page.fill("[name=executed_fiscal]", "48.60")
    page.fill("[name=executed_carryover]", "0")
    page.fill("[name=executed_other]", "0")
    page.click("text=保存预算执行")
    page.wait_for_load_state()
    assert "48.60" in page.content() and "已记录" in page.content()

    # The year close lists what is still open and waits for an explicit confirmation; then it closes.
    unit = table.unit
    page.goto(f"{live_server.url}/units/{unit.pk}/years/2026/")
    page.click("button:has-text('关账 2026 年度')")
    page.wait_for_load_state()
    if page.locator("input[name=force]").count():  # the demo's other reports still wait for review
        page.check("input[name=force]")
        page.click("button:has-text('关账 2026 年度')")
        page.wait_for_load_state()
    assert "已关账" in page.content()
    assert Report.objects.filter(table=table, as_of=YEAR_END, status="approved").exists()

    # The project's 自评表: once the worker has scored the year-end figures, nothing is missing.
    selfeval = f"{live_server.url}/selfeval/units/{unit.pk}/2026/"
    wait_until(page, selfeval, "评分更新中")
    project_row = page.locator("tr", has_text=f"项目支出绩效自评表：{PROJECT}")
    assert project_row.locator("td").nth(7).inner_text().strip() == "0", project_row.inner_text()
    with page.expect_download() as download:
        project_row.get_by_role("link", name="Excel", exact=True).click()
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    cells = [str(c.value) for sheet in book.worksheets for r in sheet.iter_rows() for c in r if c.value is not None]
    assert "缺失" not in cells and "无缺失项。" in cells
    assert "93.5%" in cells  # the corrected satisfaction
