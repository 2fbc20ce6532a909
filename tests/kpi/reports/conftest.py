"""A project with a lead, its unit's administrator and a reviewer above, and a goal table whose indicators
take every kind of entry: a count in 人次, a count in 人, one in 万人, a deadline, a graded quality, a rate."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from budgets.services import membership_grant
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

JULY = dt.date(2026, 7, 31)
ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=100人次", Decimal("30")),
    ("产出指标", "数量指标", "参保人数", ">=30000人", Decimal("10")),
    ("产出指标", "数量指标", "认证人数", ">=3.2万人", Decimal("10")),
    ("产出指标", "时效指标", "完成时间", "2026年10月31日前", Decimal("10")),
    ("效益指标", "社会效益指标", "服务质量", "有效提升", Decimal("20")),
    ("满意度指标", "满意度指标", "满意度", "$\\geq 90\\%$", Decimal("10"), "满意度赋分"),
]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class Setup(dict):
    """The people and the table; `indicators` in ROWS order, also by name (`setup.named("满意度")`)."""

    def named(self, name):
        return next(i for i in self["indicators"] if i.name == name)


@pytest.fixture
def setup():
    parent = UnitFactory(name="上级主管部门")
    unit = UnitFactory(name="测试单位", parent=parent)
    lead = UserFactory(username="lead", first_name="芳", last_name="王")
    admin = UserFactory(username="admin1", first_name="敏", last_name="刘")
    reviewer = UserFactory(username="reviewer", first_name="静", last_name="陈")
    project = ProjectFactory(unit=unit, lead=lead, name="培训项目")
    membership_grant(user=lead, unit=unit, role="lead")
    membership_grant(user=admin, unit=unit, role="admin")
    membership_grant(user=reviewer, unit=parent, role="reviewer")
    table, indicators = table_with_indicators(project, rows=ROWS)
    return Setup(lead=lead, admin=admin, reviewer=reviewer, unit=unit, project=project, table=table,
                 indicators=indicators)


def page_url(table, as_of=JULY):
    return f"{reverse('reports:table', args=[table.pk])}?as_of={as_of:%Y-%m-%d}"


def entry_data(values: dict, *, action="save", as_of=JULY, base=None) -> dict:
    """The POST of the entry form. values: {indicator: {field: value}}; base: {indicator pk: actual id}."""
    data = {"as_of": as_of.isoformat()}
    if action:
        data["action"] = action
    for indicator, fields in values.items():
        data[f"i{indicator.pk}-base"] = str((base or {}).get(indicator.pk, "") or "")
        for name, value in fields.items():
            data[f"i{indicator.pk}-{name}"] = value
    return data


def row_html(page: str, indicator) -> str:
    """The HTML of one indicator's row of the report page (what is shown beside its fields)."""
    start = page.index(f'<tr id="i{indicator.pk}"')
    return page[start:page.index("</tr>", start)]


def errors_in(html: str) -> list[str]:
    """The error messages shown in a piece of the page."""
    return re.findall(r'<span class="error">([^<]*)</span>', html)


def close_year(unit, user=None):
    """关账 as the ground floor records it (the year-close page's own checks are not this page's concern)."""
    from budgets.services import unit_year_for_update, unit_year_set_closed

    return unit_year_set_closed(unit_year=unit_year_for_update(unit=unit, year=2026), closed=True, user=user)
