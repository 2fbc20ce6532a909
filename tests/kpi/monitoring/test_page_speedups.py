"""The faster 绩效运行监控 page at 1,000 projects (issue 12) shows what it showed: the unit's indicators and
actuals read as driver rows and converted once per distinct value, without the model's default ordering, and
the indicator rows rendered in Python exactly as the template loop rendered them."""
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from kpi.lights import Light
from kpi.models import Actual, Indicator, Report
from kpi.monitoring.selectors import IndicatorLine, driver_rows, monitoring_page, monitoring_report
from kpi.reports.services import actual_record
from kpi.rescoring.tasks import rescore_table
from kpi.templatetags.kpi_monitoring import monitoring_lines
from tests.factories import ProjectFactory, UnitFactory, approve_reports, table_with_indicators

D = Decimal
YEAR = 2026
JUNE, JULY = dt.date(YEAR, 6, 30), dt.date(YEAR, 7, 31)
ROWS = [("产出指标", "数量指标", "培训人次", ">=120人次", D("40")), ("产出指标", "质量指标", "合格率", ">=95%", D("20")),
        ("效益指标", "社会效益指标", "满意度", ">=90%", D("20"))]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.mark.django_db
def test_driver_rows_convert_to_what_the_queryset_gives():
    table, (count, rate, _) = table_with_indicators(ProjectFactory(year=YEAR), rows=ROWS)
    actual_record(indicator=count, as_of=JUNE, value=D("55.5"))
    actual_record(indicator=rate, as_of=JUNE, value=D("96"), needs_rectification=True)
    for queryset in (
        Indicator.objects.filter(table=table).order_by("pk").values_list("pk", "target_value", "weight", "rule",
                                                                         "not_applicable"),
        Actual.objects.filter(indicator__table=table).order_by("pk").values_list("indicator_id", "value",
                                                                                 "needs_rectification", "as_of"),
    ):
        rows, convert = driver_rows(queryset)
        assert [convert(row) for row in rows] == list(queryset.all())
        assert len(rows) == queryset.count()
    rows, convert = driver_rows(Indicator.objects.none().values_list("pk", "weight"))
    assert rows == []
    rows, convert = driver_rows(Indicator.objects.filter(table=table).order_by("pk").values_list("pk", "table_id"))
    assert [convert(row) for row in rows] == [(i.pk, table.pk) for i in (count, rate, _)]  # nothing to convert


@pytest.mark.django_db
def test_the_units_lights_are_read_without_the_default_ordering():
    unit = UnitFactory()
    for n in range(3):
        table, (count, rate, _) = table_with_indicators(ProjectFactory(unit=unit, year=YEAR, name=f"项目{n}"),
                                                        rows=ROWS)
        actual_record(indicator=count, as_of=JUNE, value=D(40 * n))
        actual_record(indicator=rate, as_of=JUNE, value=D("96"))
        approve_reports(table)
    with CaptureQueriesContext(connection) as queries:
        found = monitoring_page(unit=unit, year=YEAR, cut=JULY)
    # The default ordering of indicators and tables joined the units and projects to sort every row.
    unit_wide = [q["sql"] for q in queries.captured_queries if '"budgets_unit"."code"' in q["sql"]]
    assert unit_wide == []
    full = monitoring_report(unit=unit, year=YEAR, cut=JULY)
    assert found.counts == full.counts and found.indicator_counts == full.indicator_counts
    assert sum(found.indicator_counts.values()) == 9 and found.indicator_counts[Light.NONE] == 3


# The loop `{% monitoring_lines block %}` replaced in templates/monitoring/unit.html, verbatim.
LOOP = """{% load kpi_format %}{% for line in block.lines %}
  <tr>
    <td>{{ line.indicator.level1 }}</td><td>{{ line.indicator.level2 }}</td><td>{{ line.indicator.name }}</td>
    <td>{% target_shown line.indicator.target_raw %}</td>
    <td class="num">{% if not line.actual %}<span class="missing">未填报</span>{% elif line.value is not None %}{{ line.value|plain }}{{ line.indicator.unit }}{% else %}{{ line.value_text }}{% endif %}</td>
    <td>{% if line.actual %}<span class="{% if line.approved %}approved{% else %}pending{% endif %}">{{ line.status_label }}</span><br><small class="explain">截至 {{ line.actual.as_of|date:"n月j日" }}</small>{% else %}—{% endif %}</td>
    <td class="num">{% if line.forecast is not None %}{{ line.forecast|plain }}{{ line.indicator.unit }}{% if line.forecast_projected %}<br><small class="explain">按进度推算</small>{% endif %}{% elif line.actual %}—{% else %}<span class="missing">未填报</span>{% endif %}</td>
    <td>{{ line.deviation|default:"" }}</td>
    <td>{{ line.likelihood }}</td>
    <td>{% if line.needs_rectification is True %}是{% elif line.needs_rectification is False %}否{% endif %}</td>
    <td>{{ line.rectification_measures|linebreaksbr }}</td>
    <td><span class="light light-{{ line.light }}" title="{{ line.light.label }}"></span>{{ line.light.label }}</td>
  </tr>
  {% endfor %}"""


def _line(*, actual=None, light=Light.GREEN, forecast=None, projected=False, **indicator):
    fields = {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "target_raw": ">=120人次", "unit": "人次"}
    return IndicatorLine(indicator=Indicator(**{**fields, **indicator}), actual=actual, light=light,
                         forecast=forecast, forecast_projected=projected)


def _actual(status=Report.Status.APPROVED, **fields):
    return Actual(report=Report(status=status), as_of=dt.date(YEAR, 6, 30), **fields)


def test_the_indicator_rows_are_the_template_loops_byte_for_byte():
    lines = [
        _line(),  # nothing reported
        _line(actual=_actual(value=D("56.0000"), forecast=D("112.00")), forecast=D("112.00"), light=Light.RED),
        _line(actual=_actual(Report.Status.SUBMITTED, value=D("30")), forecast=D("60"), projected=True,
              light=Light.YELLOW, level1="<b>产出</b>", name="A & B", target_raw="≥95%", unit="%"),
        _line(actual=_actual(Report.Status.DRAFT, value=None, grade="达成年度指标", deviation_category="经费保障",
                             deviation_reason=" 资金未到位 ", likelihood="较大", needs_rectification=True,
                             rectification_measures="加快拨付\n按月督办 <急>"), light=Light.BLUE),
        _line(actual=_actual(value=None, met=False, needs_rectification=False), target_raw="2026年6月底前完成"),
        _line(actual=_actual(value=None), light=Light.NONE),  # neither a value, a grade nor met: “None”, as before
        _line(actual=_actual(value=D("-5")), target_raw='="1"+1', unit=""),
    ]
    block = SimpleNamespace(lines=lines)
    expected = Template(LOOP).render(Context({"block": block}))
    assert monitoring_lines(block) == expected
    assert monitoring_lines(SimpleNamespace(lines=[])) == Template(LOOP).render(Context({"block": {"lines": []}}))
    shown = Template("{% load kpi_monitoring %}{% monitoring_lines block %}").render(Context({"block": block}))
    assert shown == expected and "&lt;b&gt;产出&lt;/b&gt;" in shown and "加快拨付<br>按月督办 &lt;急&gt;" in shown


@pytest.mark.django_db
def test_an_export_reads_the_report_and_writes_the_form_in_one_pause_of_the_collector(monkeypatch, settings,
                                                                                       tmp_path):
    import gc

    from kpi.monitoring import selectors, xlsx
    from tests.factories import UserFactory

    settings.MEDIA_ROOT = tmp_path
    unit = UnitFactory()
    job = xlsx.export_start(unit=unit, year=YEAR, cut=JULY, user=UserFactory())
    seen = []

    def report(**kwargs):
        seen.append(("report", gc.isenabled()))
        return SimpleNamespace(blocks=[])

    def workbook(report, progress):
        seen.append(("form", gc.isenabled()))
        return b"xlsx"

    monkeypatch.setattr(selectors, "monitoring_report", report)
    monkeypatch.setattr(xlsx, "_workbook", workbook)
    monkeypatch.setattr(gc, "enable", lambda real=gc.enable: seen.append(("on", None)) or real())
    assert gc.isenabled()
    xlsx.export_build(token=job.token)
    # Not turned back on between the two (its first pass then walked every object of the report).
    assert seen == [("report", False), ("form", False), ("on", None)] and gc.isenabled()
    assert xlsx.export_job(job.token).status == "done"
