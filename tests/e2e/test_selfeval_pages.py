"""The self-evaluation unit page in a real browser: one page of tables at a time, the head over them all."""
import pytest

from kpi.rescoring.tasks import rescore_table
from kpi.selfeval import views
from tests.e2e.conftest import login
from tests.e2e.test_browser import scored_unit

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_manager_pages_through_the_unit_selfeval(browser_page, live_server, monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    page = browser_page
    unit, _projects = scored_unit()
    login(page, live_server, "manager1")

    page.goto(f"{live_server.url}/selfeval/units/{unit.pk}/2026/")
    head = page.locator("p.summary").inner_text().replace(" ", "")
    assert "自评表3张" in head and "尚无正式得分0张" in head
    first = page.locator("table.grid").first.inner_text()
    assert "丙项目" in first and "乙项目" in first and "甲项目" not in first
    page.locator("nav.pagination").first.get_by_text("下一页").click()
    page.wait_for_load_state()
    second = page.locator("table.grid").first.inner_text()
    assert "甲项目" in second and "丙项目" not in second
    assert "第 2 / 2 页" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1
