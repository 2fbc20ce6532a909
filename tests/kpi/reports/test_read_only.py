"""Read-only looks read-only: after 提交, after 关账 and to a reviewer the values are text, with no inputs and
no save buttons; a reviewer sees the values and the 审核 buttons."""
from decimal import Decimal

import pytest
from django.urls import reverse

from kpi.models import Actual, Report
from kpi.reports.services import actual_record, report_submit

from .conftest import JULY, close_year, entry_data, page_url, row_html

pytestmark = pytest.mark.django_db
INPUTS = ('-value"', '-met"', '-grade"', '-points"', '-forecast"', '-deviation_reason"', 'type="file"')
SAVE_BUTTONS = ('value="save"', 'value="submit"', ">上传<")


def recorded(setup):
    """80 人次 with its forecast and a late deadline, recorded by the lead in July's draft."""
    count, deadline = setup.named("培训人次"), setup.named("完成时间")
    actual = actual_record(indicator=count, as_of=JULY, value=Decimal("80"), forecast=Decimal("120"),
                           likelihood="有可能", user=setup["lead"])
    actual_record(indicator=deadline, as_of=JULY, met=True, report=actual.report, user=setup["lead"])
    return actual.report


def assert_read_only(page: str, setup):
    for marker in INPUTS + SAVE_BUTTONS:
        assert marker not in page, marker
    count = setup.named("培训人次")
    row = row_html(page, count)
    assert "80 人次" in row and "全年预计完成值：</span>120 人次" in row and "有可能" in row
    assert "达成" in row_html(page, setup.named("完成时间"))


def test_a_draft_is_offered_as_inputs_to_its_lead(client, setup):
    recorded(setup)
    client.force_login(setup["lead"])
    page = client.get(page_url(setup["table"])).content.decode()
    assert 'enctype="multipart/form-data"' in page
    for marker in INPUTS + SAVE_BUTTONS:
        assert marker in page, marker


def test_after_submitting_the_lead_sees_text_and_a_withdraw_button(client, setup):
    report = report_submit(report=recorded(setup), user=setup["lead"])
    client.force_login(setup["lead"])
    page = client.get(page_url(setup["table"])).content.decode()
    assert_read_only(page, setup)
    assert "已提交，等待审核：数值只读。如需修改，请先撤回。" in page
    assert reverse("reports:withdraw", args=[report.pk]) in page
    assert "审核通过" not in page  # a lead does not review
    # a save sent anyway (a page left open) is refused and saves nothing
    count = setup.named("培训人次")
    response = client.post(page_url(setup["table"]), entry_data({count: {"value": "90"}}))
    assert response.status_code == 200 and "未保存：已提交，等待审核" in response.content.decode()
    assert not Actual.objects.filter(value=Decimal("90")).exists()


@pytest.mark.parametrize("who", ["reviewer", "admin"])
def test_a_reviewer_sees_the_values_and_the_review_buttons_not_an_entry_form(client, setup, who):
    report = report_submit(report=recorded(setup), user=setup["lead"])
    client.force_login(setup[who])
    page = client.get(page_url(setup["table"])).content.decode()
    assert_read_only(page, setup)
    assert reverse("reports:review", args=[report.pk]) in page and 'value="return"' in page
    assert ('value="approve"' in page) is (who == "admin")
    assert (reverse("reports:withdraw", args=[report.pk]) in page) is (who == "admin")  # administrators may record


def test_a_reviewer_sees_a_draft_read_only_too(client, setup):
    recorded(setup)
    client.force_login(setup["reviewer"])
    page = client.get(page_url(setup["table"])).content.decode()
    assert_read_only(page, setup)
    assert "只读：填报由项目负责人或单位管理员进行；提交后可在此审核。" in page
    assert "草稿" in row_html(page, setup.named("培训人次"))  # labelled by its real state
    assert 'action="/tables/' not in page.split('id="execution"')[1].split("</section>")[0]  # no budget form


def test_after_closing_the_year_everything_is_read_only_and_review_is_gone(client, setup):
    report_submit(report=recorded(setup), user=setup["lead"])
    close_year(setup["unit"], setup["admin"])
    for who in ("lead", "admin"):
        client.force_login(setup[who])
        page = client.get(page_url(setup["table"])).content.decode()
        assert_read_only(page, setup)
        assert "2026 年度已关账，数据只读。" in page
        assert 'value="approve"' not in page and 'value="return"' not in page and "撤回" not in page
        assert "保存预算执行" not in page
    count = setup.named("培训人次")
    response = client.post(page_url(setup["table"]), entry_data({count: {"value": "90"}}))
    assert "未保存：2026 年度已关账" in response.content.decode()
    assert Report.objects.get().status == Report.Status.SUBMITTED and Actual.objects.count() == 2
