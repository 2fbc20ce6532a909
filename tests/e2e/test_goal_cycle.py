"""Next year's goal table written, reviewed, ratified and published in a real browser, as issue 13 walks it.

In the demo (the README's first command loads it): the unit administrator starts 2027 from 2026, edits a
project's rows with last year's results beside them, adds one from the 指标库 picker, fixes what the quality
review flags and submits (申报); the 主管部门 reviewer returns it once with a reason, the administrator
answers it and submits again, the reviewer passes it, the finance reviewer ratifies it (批复); the published
text of 2027 then imports back into a fresh unit as the same table.
"""
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from budgets.models import Unit
from kpi.models import GoalTable, GoalTableStep
from kpi.rescoring.tasks import rescore_table
from tests.e2e.conftest import login
from tests.kpi.goals.test_publish import reimport, snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PASSWORD = "jixiao-demo-2026"  # the demo's published password
PROJECT = "城乡居民养老保险待遇发放服务项目"
RETURN_REASON = "待遇发放差错率的目标请写明测算依据"
SHOTS = Path("/tmp/shots")


def row_of(page, name: str):
    """The editor's row whose 三级指标 is `name`."""
    return page.locator("tr.indicator-row", has=page.locator(f"input[name$='-name'][value='{name}']"))


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_next_years_table_from_rollover_to_publication(browser_page, live_server, monkeypatch, tmp_path):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)  # scores are not what this walks
    call_command("load_demo", verbosity=0)
    unit = Unit.objects.get(code="DEMO-SB")
    page = browser_page
    base = live_server.url

    # The administrator starts 2027 from 2026.
    login(page, live_server, "liumin", PASSWORD)
    page.goto(f"{base}/units/{unit.pk}/years/2026/")
    page.click("text=以 2026 年为基础编制 2027 年目标表")
    page.wait_for_url(f"**/units/{unit.pk}/years/2027/")
    assert GoalTable.objects.filter(unit=unit, year=2027).count() == 3
    table = GoalTable.objects.get(unit=unit, year=2027, project__name=PROJECT)
    assert table.status == GoalTable.Status.DRAFT and table.previous.year == 2026

    # Editing: last year's target, actual and score beside each row; the review flags the 差错率 target
    # (above last year's 0.3% for a reverse indicator).
    page.goto(f"{base}/units/tables/{table.pk}/edit/")
    errors_row = row_of(page, "待遇发放差错率")
    assert "完成 0.3%" in errors_row.locator("td.last-year").inner_text()
    assert errors_row.locator("[name$='-last_year']").input_value() == "0.3%"
    assert "高于上年完成值" in page.locator("section.findings").inner_text()
    errors_row.locator("[name$='-target_raw']").fill("")
    errors_row.locator("[name$='-target_raw']").type("<=0.3%")
    errors_row.locator(".target-summary").filter(has_text="反向，≤0.3%").wait_for()
    # A row from the 指标库 (the other project's 2026 table): the sum goes off 90 until a weight gives way.
    page.fill("#library-q", "验收合格率")
    page.locator("#library-results button.library-add").first.click()
    picked = page.locator("tr.indicator-row").last
    assert picked.locator("[name$='-name']").input_value() == "网点设备验收合格率"
    picked.locator(".target-summary").filter(has_text="正向").wait_for()
    picked.locator("[name$='-weight']").fill("5")
    assert page.locator("#weight-sum").inner_text() == "95"
    on_time = row_of(page, "待遇按时足额发放率").locator("[name$='-weight']")
    on_time.fill(str(Decimal(on_time.input_value()) - 5))
    assert page.locator("#weight-sum").inner_text() == "90"
    shot(page, "cycle-editor")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"**/units/tables/{table.pk}/edit/?saved=1")
    findings = page.locator("section.findings").inner_text()
    assert "必须修改" not in findings and "待遇发放差错率" not in findings
    assert table.indicators.filter(name="网点设备验收合格率", weight=Decimal("5")).exists()

    # 申报.
    page.goto(f"{base}/units/tables/{table.pk}/workflow/")
    page.click("form[action$='/submit/'] button")
    page.locator(".table-status", has_text="已申报").wait_for()

    # The 主管部门 reviewer finds it in the queue and returns it with a reason.
    login(page, live_server, "chenjing", PASSWORD)
    page.goto(f"{base}/units/tables/awaiting/")
    page.locator("tr", has_text=PROJECT).locator("a", has_text="打开").click()
    page.wait_for_url(f"**/units/tables/{table.pk}/workflow/")
    page.fill("form[action$='/return/'] input[name=reason]", RETURN_REASON)
    page.click("form[action$='/return/'] button")
    page.locator(".table-status", has_text="已退回").wait_for()

    # The administrator sees why, answers it in the table and submits again.
    login(page, live_server, "liumin", PASSWORD)
    page.goto(f"{base}/units/tables/{table.pk}/workflow/")
    assert RETURN_REASON in page.content()
    page.goto(f"{base}/units/tables/{table.pk}/edit/")
    row_of(page, "待遇发放差错率").locator("[name$='-basis']").fill("近三年差错率均不高于0.3%")
    page.click("button[type=submit].primary")
    page.wait_for_url("**/edit/?saved=1")
    page.goto(f"{base}/units/tables/{table.pk}/workflow/")
    page.click("form[action$='/submit/'] button")
    page.locator(".table-status", has_text="已申报").wait_for()

    # Passed by the 主管部门, ratified by the finance bureau.
    login(page, live_server, "chenjing", PASSWORD)
    page.goto(f"{base}/units/tables/{table.pk}/workflow/")
    page.click("form[action$='/pass/'] button")
    page.locator(".table-status", has_text="审核通过").wait_for()
    login(page, live_server, "sunli", PASSWORD)
    page.goto(f"{base}/units/tables/awaiting/")
    page.locator("tr", has_text=PROJECT).locator("a", has_text="打开").click()
    page.click("form[action$='/ratify/'] button")
    page.locator(".table-status", has_text="已批复").wait_for()
    shot(page, "cycle-workflow")
    steps = list(GoalTableStep.objects.filter(table=table).order_by("at", "id").values_list("action", "by__username"))
    assert steps == [("submit", "liumin"), ("return", "chenjing"), ("submit", "liumin"), ("pass", "chenjing"),
                     ("approve", "sunli")]

    # Published: the text downloaded from the publish page imports back as the same table.
    login(page, live_server, "liumin", PASSWORD)
    page.goto(f"{base}/units/{unit.pk}/years/2027/publish/")
    with page.expect_download() as download:
        page.click("text=下载公开文本（.txt）")
    published = Path(download.value.path()).read_bytes()
    assert PROJECT.encode() in published
    before = snapshot(unit, 2027)["tables"][PROJECT]
    fresh = reimport(unit, published, "2027-公开.txt")
    assert snapshot(fresh, 2027)["tables"] == {PROJECT: before}
