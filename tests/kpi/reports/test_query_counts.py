"""The report page's queries do not grow with its indicators, in each of its states (pinned, absolute)."""
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpi.reports.services import actual_record, report_return, report_submit
from tests.factories import EvidenceFactory, ProjectFactory, table_with_indicators

from .conftest import JULY, ROWS, page_url

pytestmark = pytest.mark.django_db


def reported(table, indicators, user, *, status):
    """Every number indicator recorded (with a file each), then submitted or returned."""
    report = None
    for indicator in indicators:
        if indicator.entry_mode == "number":
            report = actual_record(indicator=indicator, as_of=JULY, value=Decimal("95"), deviation_reason="测试",
                                   deviation_category="其他", report=report, user=user).report
            EvidenceFactory(indicator=indicator, user=user)
    report = report_submit(report=report, user=user)
    if status == "returned":
        report_return(report=report, reason="请核对", indicator_ids=[indicators[0].pk])


def bigger(setup):
    project = ProjectFactory(lead=setup["lead"], unit=setup["unit"])
    return table_with_indicators(project, rows=ROWS + [(r[0], r[1], r[2] + "B", *r[3:]) for r in ROWS] * 1)


@pytest.mark.parametrize(("who", "status", "queries"), [
    # (each with the table's scoring policy: 1)
    ("lead", "returned", 22),  # the returned report's values: one query more than an open report's page
    ("lead", "submitted", 21),
    ("admin", "submitted", 20),  # an administrator's permissions take fewer queries; the navigation's 待审核 count 1
    ("reviewer", "submitted", 23),  # a reviewer's units are found through the 主管部门 tree; 待审核 count 1
])
def test_each_state_of_the_page_is_a_fixed_number_of_queries(client, setup, django_assert_num_queries, who, status,
                                                             queries):
    reported(setup["table"], setup["indicators"], setup["lead"], status=status)
    client.force_login(setup[who])
    with django_assert_num_queries(queries):
        client.get(page_url(setup["table"]))
    table, indicators = bigger(setup)
    reported(table, indicators, setup["lead"], status=status)
    with CaptureQueriesContext(connection) as large:
        client.get(page_url(table))
    assert len(large) == queries
