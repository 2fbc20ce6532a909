"""A finance reviewer changes a region's scoring policy in a real browser: the form, a bad setting said beside
its field with everything kept, the preview of what the change does, the confirmation, and the project page
then naming the policy its scores come from once rescored."""
import datetime as dt
from decimal import Decimal

import pytest

from budgets.services import membership_grant
from kpi.models import ScoringPolicy
from kpi.rescoring.services import stale_tables_sweep
from kpi.rescoring.tasks import rescore_table
from tests.e2e.conftest import login
from tests.factories import (
    ProjectFactory,
    UnitFactory,
    UserFactory,
    approve_reports,
    rescore_stale,
    table_with_indicators,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
DECEMBER = dt.date(2026, 12, 31)


def scored_world():
    from kpi.reports.services import actual_record, execution_report

    department = UnitFactory(name="浏览器财政局")
    unit = UnitFactory(name="浏览器单位", parent=department)
    finance = UserFactory(username="finance1", first_name="财政")
    membership_grant(user=finance, unit=department, role="reviewer")
    project = ProjectFactory(unit=unit, name="浏览器培训项目")
    table, indicators = table_with_indicators(project)
    for indicator, value in zip(indicators, ("150", "96", "40", "95"), strict=True):
        actual_record(indicator=indicator, as_of=DECEMBER, value=Decimal(value))
    approve_reports(table)
    execution_report(project=project, as_of=DECEMBER, executed=Decimal("75"))
    rescore_stale()
    return project


def test_a_reviewer_previews_and_saves_a_regional_policy(browser_page, live_server, monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    page = browser_page
    project = scored_world()
    login(page, live_server, "finance1")

    page.goto(f"{live_server.url}/policies/")
    assert "默认评分政策" in page.content()
    page.click("text=新建评分政策")
    page.fill("input[name=name]", "浏览器2026")
    page.fill("input[name=region]", "示范地区")
    page.fill("input[name=year]", "2026")
    page.fill("input[name=execution_weight]", "20")
    page.fill("textarea[name=caps]", "80 89\n70")  # the second line is incomplete
    page.click("button:has-text('预览影响')")
    page.wait_for_load_state()
    assert "第 2 行“70”应为两个数" in page.content()
    assert page.input_value("input[name=name]") == "浏览器2026"  # nothing typed is lost
    assert page.input_value("input[name=execution_weight]") == "20"

    page.fill("textarea[name=caps]", "80 89\n70 79")
    page.click("button:has-text('预览影响')")
    page.wait_for_load_state()
    content = page.content()
    assert "保存前预览" in content and "浏览器培训项目" in content
    assert "预算执行率 75% 低于 80%，总分最高 89 分" in content
    assert not ScoringPolicy.objects.exists()

    page.click("button:has-text('确认保存')")
    page.wait_for_url(f"{live_server.url}/policies/")
    assert "已保存“浏览器2026（第1版）”" in page.content()
    policy = ScoringPolicy.objects.get()
    assert policy.execution_caps == [[80, 89], [70, 79]] and policy.execution_weight == Decimal(20)

    stale_tables_sweep()  # what the worker's sweep does within a minute
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    content = page.content()
    assert "浏览器2026（第1版）" in content and "/ 20" in content
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/policies/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # one card per policy on a phone
