"""Targets are shown as a person writes them (≥98%, not $\\geq 98\\%$) on the 监控表 and the unit scorecard's
部门整体 table, the published text one click away; the 监控表 workbook, the official form, keeps the
published text."""
import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from budgets.services import membership_grant
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
YEAR = 2026
RAW = r"$\geq 98\%$"
SHOWN = '<details class="target"><summary>≥98%</summary><small>原文：$\\geq 98\\%$</small></details>'


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def world(client):
    unit = UnitFactory()
    admin = UserFactory()
    membership_grant(user=admin, unit=unit, role="admin")
    rows = [("满意度指标", "服务对象满意度指标", "群众满意度", RAW, Decimal("10"), "满意度赋分")]
    table_with_indicators(unit=unit, year=YEAR, rows=rows)
    table_with_indicators(ProjectFactory(unit=unit, name="甲项目"), rows=rows)
    client.force_login(admin)
    return unit


def test_the_monitoring_page_shows_the_tidy_target(client, world):
    page = client.get(reverse("monitoring:unit", args=[world.pk, YEAR])).content.decode()
    assert page.count(SHOWN) == 2  # the 部门整体 table and the project's


def test_the_unit_scorecards_unit_table_shows_the_tidy_target(client, world):
    page = client.get(reverse("scorecards:unit", args=[world.pk, YEAR])).content.decode()
    assert SHOWN in page


def test_the_workbook_keeps_the_published_text(client, world):
    url = reverse("monitoring:unit-xlsx", args=[world.pk, YEAR])
    ws = load_workbook(BytesIO(client.get(f"{url}?cut={dt.date(YEAR, 7, 31)}").content)).active
    targets = [row[3].value for row in ws.iter_rows() if row[2].value == "群众满意度"]
    assert targets == [RAW, RAW]
