"""退回 and 撤回 on the report page: a returned report reopens with its values and the reviewer's reason (at the
top and beside the indicators it names), the lead changes one field and resubmits, both versions kept; a
submitted report can be withdrawn until it is reviewed."""
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kpi.models import Actual, Report
from kpi.reports.services import actual_record, report_approve, report_return, report_submit, report_withdraw
from tests.factories import table_with_indicators

from .conftest import JULY, close_year, entry_data, page_url, row_html

pytestmark = pytest.mark.django_db
REASON = "参保人数与台账不符，请核对"


def submitted(client, setup):
    """The lead records three values and submits them."""
    count, people, tenk = setup.named("培训人次"), setup.named("参保人数"), setup.named("认证人数")
    client.force_login(setup["lead"])
    response = client.post(page_url(setup["table"]), entry_data({
        count: {"value": "80", "forecast": "110", "likelihood": "确定能"},
        people: {"value": "31000"},
        tenk: {"value": "3.1"},
    }, action="submit"))
    assert response.status_code == 302, response.content.decode()
    return Report.objects.get(table=setup["table"], status=Report.Status.SUBMITTED)


def test_the_return_form_lets_the_reviewer_name_the_indicators(client, setup):
    report = submitted(client, setup)
    client.force_login(setup["reviewer"])
    page = client.get(page_url(setup["table"])).content.decode()
    for indicator in setup["indicators"]:
        assert f'name="indicators" value="{indicator.pk}"' in page
    assert "退回原因" in page and "审核通过" not in page  # a reviewer above returns, only administrators approve
    people = setup.named("参保人数")
    client.post(reverse("reports:review", args=[report.pk]),
                {"action": "return", "reason": REASON, "indicators": [str(people.pk)]})
    report.refresh_from_db()
    assert report.status == Report.Status.RETURNED and report.review_indicators == [people.pk]


def test_a_return_without_a_reason_is_refused_beside_the_field_and_keeps_the_ticks(client, setup):
    report = submitted(client, setup)
    people = setup.named("参保人数")
    client.force_login(setup["admin"])
    response = client.post(reverse("reports:review", args=[report.pk]),
                           {"action": "return", "reason": "  ", "indicators": [str(people.pk)]})
    page = response.content.decode()
    assert response.status_code == 200
    assert "退回时必须填写原因" in page
    assert re.search(rf'name="indicators" value="{people.pk}"[^>]*checked', page)  # the tick is kept
    assert Report.objects.get(pk=report.pk).status == Report.Status.SUBMITTED


def test_a_returned_report_reopens_with_its_values_and_the_reason_beside_the_named_indicator(client, setup):
    report = submitted(client, setup)
    count, people, tenk = setup.named("培训人次"), setup.named("参保人数"), setup.named("认证人数")
    client.force_login(setup["admin"])
    client.post(reverse("reports:review", args=[report.pk]),
                {"action": "return", "reason": REASON, "indicators": [str(people.pk)]})

    client.force_login(setup["lead"])
    page = client.get(page_url(setup["table"])).content.decode()
    # the values typed before the return are in the fields, not an empty page
    assert f'name="i{count.pk}-value" value="80"' in page and f'name="i{count.pk}-forecast" value="110"' in page
    assert f'name="i{people.pk}-value" value="31000"' in page and f'name="i{tenk.pk}-value" value="3.1"' in page
    # the reason at the top, and beside the indicator it names only
    top = page[:page.index('<form method="post" action="/tables/')]
    assert "退回原因</strong>（刘敏" in top and REASON in top and "涉及指标" in top and "参保人数" in top
    assert f"退回原因：{REASON}" in row_html(page, people)
    assert REASON not in row_html(page, count)

    # the lead changes the one field and resubmits everything shown
    response = client.post(page_url(setup["table"]), entry_data({
        count: {"value": "80", "forecast": "110", "likelihood": "确定能"},
        people: {"value": "30500"},
        tenk: {"value": "3.1"},
    }, action="submit"))
    assert response.status_code == 302
    again = Report.objects.get(table=setup["table"], status=Report.Status.SUBMITTED)
    values = {a.indicator_id: a.value for a in again.actuals.all()}
    assert values == {count.pk: Decimal("80"), people.pk: Decimal("30500"), tenk.pk: Decimal("3.1")}
    # both versions are kept: the returned report with its values, and the new one
    report.refresh_from_db()
    assert report.status == Report.Status.RETURNED
    assert {a.indicator_id: a.value for a in report.actuals.all()}[people.pk] == Decimal("31000")
    assert report.history.filter(status=Report.Status.RETURNED).exists()
    page = client.get(page_url(setup["table"])).content.decode()
    assert "已提交" in page and "上次退回原因" in page


def test_the_returned_values_are_shown_read_only_to_the_reviewer_labelled_as_returned(client, setup):
    report = submitted(client, setup)
    report_return(report=report, reason=REASON, user=setup["admin"])
    client.force_login(setup["reviewer"])
    page = client.get(page_url(setup["table"])).content.decode()
    count = setup.named("培训人次")
    assert "80 人次" in row_html(page, count) and "已退回" in row_html(page, count)
    assert f'name="i{count.pk}-value"' not in page


def test_a_returned_correction_of_an_approved_report_keeps_the_approved_value_as_its_base(client, setup):
    count = setup.named("培训人次")
    first = actual_record(indicator=count, as_of=JULY, value=Decimal("70"))
    report_approve(report=report_submit(report=first.report))
    client.force_login(setup["lead"])
    client.post(page_url(setup["table"]), entry_data({count: {"value": "75"}}, action="submit",
                                                     base={count.pk: first.pk}))
    correction = Report.objects.get(status=Report.Status.SUBMITTED)
    report_return(report=correction, reason="请附签到表", indicator_ids=[count.pk])
    page = client.get(page_url(setup["table"])).content.decode()
    assert f'name="i{count.pk}-value" value="75"' in page and f'name="i{count.pk}-base" value="{first.pk}"' in page
    client.post(page_url(setup["table"]), entry_data({count: {"value": "76"}}, action="submit",
                                                     base={count.pk: first.pk}))
    latest = Actual.objects.order_by("-id").first()
    assert latest.value == Decimal("76") and latest.replaces == first
    assert latest.report.replaces == first.report and latest.report.status == Report.Status.SUBMITTED


def test_report_return_refuses_indicators_of_another_table(setup):
    count = setup.named("培训人次")
    other_table, (other,) = table_with_indicators(rows=[("产出指标", "数量指标", "别的", ">=1件", Decimal("90"))])
    report = report_submit(report=actual_record(indicator=count, as_of=JULY, value=Decimal("80")).report)
    with pytest.raises(ValidationError, match="不属于该绩效目标表"):
        report_return(report=report, reason="请核对", indicator_ids=[other.pk])
    assert Report.objects.get(pk=report.pk).status == Report.Status.SUBMITTED


def test_the_lead_withdraws_a_submitted_report_and_may_change_it_again(client, setup):
    report = submitted(client, setup)
    page = client.get(page_url(setup["table"])).content.decode()
    assert reverse("reports:withdraw", args=[report.pk]) in page and "撤回" in page
    response = client.post(reverse("reports:withdraw", args=[report.pk]), follow=True)
    assert "已撤回" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Report.Status.DRAFT and report.submitted_at is None
    assert list(report.history.order_by("history_id").values_list("status", flat=True)) == [
        "draft", "submitted", "draft"]  # the submission stays in the history
    count = setup.named("培训人次")
    assert f'name="i{count.pk}-value" value="80"' in response.content.decode()  # editable again


def test_withdrawal_is_refused_once_reviewed_in_a_closed_year_and_to_those_who_may_not_record(client, setup):
    report = submitted(client, setup)
    client.force_login(setup["reviewer"])
    assert client.post(reverse("reports:withdraw", args=[report.pk])).status_code == 403
    report_approve(report=report, user=setup["admin"])
    client.force_login(setup["lead"])
    page = client.get(page_url(setup["table"])).content.decode()
    assert reverse("reports:withdraw", args=[report.pk]) not in page
    response = client.post(reverse("reports:withdraw", args=[report.pk]), follow=True)
    assert "不能撤回" in response.content.decode()
    assert Report.objects.get(pk=report.pk).status == Report.Status.APPROVED

    count = setup.named("培训人次")
    later = report_submit(report=actual_record(indicator=count, as_of=JULY.replace(day=30), value=Decimal("81"),
                                               replaces=None).report)
    close_year(setup["unit"], setup["admin"])
    with pytest.raises(ValidationError, match="已关账"):
        report_withdraw(report=later)
    assert Report.objects.get(pk=later.pk).status == Report.Status.SUBMITTED
