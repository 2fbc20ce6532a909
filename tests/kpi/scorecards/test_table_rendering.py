"""The tables' rows rendered in Python (kpi_tables.table_body_rows) and django-tables2's cached signatures:
the same HTML as the library's own row loop, with a column's attributes and a render method's signature
worked out once instead of once per cell."""
import inspect
import itertools
import re

import django_tables2 as tables
import django_tables2.utils
import pytest
from django.template.loader import get_template
from django.test import RequestFactory
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from kpi.scorecards.tables import BaseTable
from tests.factories import UserFactory

from .builders import YEAR, no_enqueue, scored_project, unit_world  # noqa: F401 (fixtures)


def _tbody(html: str) -> str:
    body = re.search(r"<tbody[^>]*>(.*?)</tbody>", html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", body)).strip()


def _render(table, template_name: str) -> str:
    request = RequestFactory().get("/")
    table._counter = itertools.count()  # as Table.as_html does: the rows' even/odd from the first
    return get_template(template_name).render({"table": table}, request=request)


class Sample(BaseTable):
    name = tables.Column()
    amount = tables.Column(attrs={"td": {"class": "num", "data-id": lambda record: record["id"]}})
    price = tables.Column(localize=True)
    code = tables.Column(localize=False)
    link = tables.Column(accessor="name", empty_values=())

    class Meta(BaseTable.Meta):
        pass

    def render_link(self, record, value):
        return format_html('<a href="/x/{}">{}</a>', record["id"], value)

    def render_name(self, value):
        return mark_safe(f"<b>{value}</b>") if value == "安全" else value


ROWS = [
    {"id": 1, "name": "安全", "amount": 1234567, "price": 1234.5, "code": 98765},
    {"id": 2, "name": "<i>转义</i>", "amount": None, "price": None, "code": 1000.25},
    {"id": 3, "name": "丙 & 丁", "amount": 0, "price": 7, "code": "A&B"},
]


@pytest.mark.parametrize("localized", [False, True])
def test_the_rows_are_those_of_django_tables2s_own_loop(settings, localized):
    settings.USE_THOUSAND_SEPARATOR = localized
    ours = _render(Sample(ROWS), "scorecards/table.html")
    stock = _render(Sample(ROWS), "django_tables2/table.html")
    assert _tbody(ours) == _tbody(stock)
    # Escaped text, safe HTML kept, callable attributes per record, even/odd rows.
    assert "&lt;i&gt;转义&lt;/i&gt;" in ours and "<b>安全</b>" in ours and '<a href="/x/3">丙 &amp; 丁</a>' in ours
    assert re.findall(r'data-id="(\d)"', ours) == ["1", "2", "3"]
    assert re.findall(r'<tr class="(\w+)"', ours) == ["even", "odd", "even"]


class Records(BaseTable):
    """Model records: a field with choices (shown by its label), a callable attribute, a render method that
    asks for an argument the library does not offer, custom empty values, a link and a two-step accessor
    (the last two through the library's own cell path)."""

    status = tables.Column()
    scope = tables.Column(empty_values=("unit", ""), default="（单位）")
    year = tables.Column()
    label = tables.Column(accessor="__str__")
    odd = tables.Column(accessor="year", empty_values=())
    linked = tables.Column(accessor="year", linkify=lambda record: f"/t/{record.year}/")
    deep = tables.Column(accessor="status__upper")

    class Meta(BaseTable.Meta):
        pass

    def render_year(self, value, bound_row):
        return f"{value}（第 {bound_row.row_counter + 1} 行）"

    def render_odd(self, value, nonsense):
        return "never"


def test_model_records_render_as_django_tables2s_own_loop():
    from kpi.models import GoalTable

    rows = [GoalTable(year=2025 + i, status=status, scope=scope)
            for i, (status, scope) in enumerate([("draft", "project"), ("approved", "unit"), ("returned", "project")])]
    ours = _render(Records(rows), "scorecards/table.html")
    stock = _render(Records(rows), "django_tables2/table.html")
    assert _tbody(ours) == _tbody(stock)
    # The label of a choice (taken before the empty values are checked, as the library does), the row the
    # render method was given, None from a method asking for what is not offered, the link, the second step.
    assert "草稿" in ours and "部门整体绩效目标表" in ours and "（单位）" not in ours
    assert "2026（第 2 行）" in ours and "never" not in ours and "<td >None</td>" in ours
    assert 'href="/t/2027/"' in ours and "DRAFT" in ours


def test_an_empty_table_shows_its_empty_text():
    ours = _render(Sample([]), "scorecards/table.html")
    assert _tbody(ours) == '<tr><td colspan="5">没有记录。</td></tr>'
    assert _tbody(ours) == _tbody(_render(Sample([]), "django_tables2/table.html"))


def test_static_cell_attributes_are_worked_out_once_per_column(monkeypatch):
    calls = []
    original = django_tables2.columns.base.BoundColumn.attrs.fget

    def counting(self):
        calls.append(self.name)
        return original(self)

    monkeypatch.setattr(django_tables2.columns.base.BoundColumn, "attrs", property(counting))
    rows = [{**ROWS[0], "id": i} for i in range(30)]
    html = _render(Sample(rows), "scorecards/table.html")
    assert html.count('data-id="') == 30
    # The header once per column, a static td once per column, the callable one ("amount") once per row.
    assert calls.count("name") == 2 and calls.count("price") == 2
    assert calls.count("amount") == 1 + 30


def test_a_render_methods_signature_is_inspected_once(monkeypatch):
    inspected = []
    original = inspect.signature

    def counting(fn, *args, **kwargs):
        inspected.append(getattr(fn, "__name__", fn))
        return original(fn, *args, **kwargs)

    monkeypatch.setattr(inspect, "signature", counting)
    for _ in range(3):
        _render(Sample([{**ROWS[0], "id": i} for i in range(10)]), "scorecards/table.html")
    assert inspected.count("render_link") <= 1 and inspected.count("render_name") <= 1


def test_the_cached_signature_answers_as_the_librarys():
    class Thing:
        def method(self, value, record=None):
            return value

        @classmethod
        def made(cls, value, **kwargs):
            return value

    def plain(value, *args, table=None):
        return value

    uncached = django_tables2.utils.signature.uncached
    for fn in (Thing().method, Thing.method, Thing.made, plain, lambda record: record):
        assert django_tables2.utils.signature(fn) == uncached(fn)
        assert django_tables2.utils.signature(fn) == uncached(fn)  # from the cache the second time
    assert django_tables2.utils.signature(Thing().method) == (("value", "record"), None)
    assert django_tables2.utils.signature(Thing.method) == (("self", "value", "record"), None)


@pytest.mark.django_db
def test_the_unit_scorecards_rows_are_unchanged(client, unit_world):
    """The real page's table, rendered by our template and by django-tables2's own."""
    unit = unit_world["unit"]
    client.force_login(UserFactory(is_superuser=True))
    response = client.get(reverse("scorecards:unit", args=[unit.pk, YEAR]) + "?sort=-total")
    table = response.context["table"]
    stock = _render(table, "django_tables2/table.html")
    assert _tbody(response.content.decode()) == _tbody(stock)
    assert 'class="num"' in stock and "light light-" in stock


@pytest.mark.django_db
def test_the_charts_time_elapsed_falls_back_to_the_execution_date(unit_world):
    """A project without a scored table takes the month of its latest 执行数 (the month taken in SQL)."""
    import datetime as dt
    from decimal import Decimal

    from kpi.scorecards.selectors import scorecard_rows, unit_chart_data, unit_summaries
    from tests.factories import BudgetExecutionFactory, ProjectFactory

    unit = unit_world["unit"]
    project = ProjectFactory(unit=unit, name="只有执行数", budget_initial=Decimal("100"), fiscal=Decimal("100"))
    BudgetExecutionFactory(project=project, as_of=dt.date(YEAR, 3, 31), executed=Decimal("10"))
    BudgetExecutionFactory(project=project, as_of=dt.date(YEAR, 5, 31), executed=Decimal("20"))
    summary = unit_summaries(unit_ids=[unit.pk], year=YEAR)[unit.pk]
    chart = unit_chart_data(scorecard_rows(unit=unit, year=YEAR), summary)["execution"]
    elapsed = dict(zip(chart["projects"], chart["elapsed"]))
    assert elapsed["只有执行数"] == 41.67  # May: 5 / 12
    assert elapsed["甲项目"] == 58.33 and elapsed["己项目"] is None


@pytest.mark.django_db
def test_the_charts_rates_are_the_stored_rates_as_percentages(unit_world):
    """The chart's 执行率 comes as a float from SQL: the stored rate (four places) × 100, exactly."""
    from decimal import Decimal

    from kpi.models import TableSummary
    from kpi.scorecards.selectors import scorecard_rows, unit_chart_data, unit_summaries

    unit = unit_world["unit"]
    rates = [Decimal("0.0005"), Decimal("1.2345"), Decimal("0.9999"), Decimal("0.3333"), Decimal("0.0070")]
    summaries = list(TableSummary.objects.filter(table__unit=unit, table__project__isnull=False).order_by("pk"))
    assert len(summaries) >= 3
    for summary, rate in zip(summaries, rates):
        summary.official_execution_rate = rate
        summary.save(update_fields=["official_execution_rate"])
    chart = unit_chart_data(scorecard_rows(unit=unit, year=YEAR),
                            unit_summaries(unit_ids=[unit.pk], year=YEAR)[unit.pk])["execution"]
    shown = dict(zip(chart["projects"], chart["rate"]))
    for summary, rate in zip(summaries, rates):
        assert shown[summary.table.project.name] == float(rate * 100)
    assert all(isinstance(r, float) or r is None for r in chart["rate"])
