"""The review queue: every submitted report waiting for the user's decision, oldest first, each opening on
the report page at its date; and its count in the navigation, in one query."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from budgets.models import Role
from budgets.selectors import units_for_user
from budgets.services import membership_grant
from kpi.models import Report
from kpi.reports.services import actual_record, report_approve, report_return, report_submit
from kpi.rescoring.tasks import rescore_table
from kpi.reviews.selectors import reports_awaiting_review, review_count
from kpi.yearclose.services import unit_year_close
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
JULY, AUGUST, SEPTEMBER = dt.date(2026, 7, 31), dt.date(2026, 8, 31), dt.date(2026, 9, 30)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


def submitted(project, as_of, *, lead=None, submit=True):
    """The lead records the first indicator of the project's table as of a date and submits it."""
    table = project.goal_tables.first() or table_with_indicators(project)[0]
    indicator = table.indicators.order_by("order").first()
    report = actual_record(indicator=indicator, as_of=as_of, value=Decimal("120"), user=lead).report
    return report_submit(report=report, user=lead) if submit else report


@pytest.fixture
def tree():
    """财政局 ⊃ 主管部门 ⊃ 单位 A, B; unit C elsewhere. An administrator of A, a reviewer at the 主管部门, one
    at the 财政局, an administrator of C, a lead of A; reports of A and B submitted at different times."""
    finance = UnitFactory(name="市财政局")
    bureau = UnitFactory(name="市人社局", parent=finance)
    unit_a = UnitFactory(name="甲中心", parent=bureau)
    unit_b = UnitFactory(name="乙中心", parent=bureau)
    unit_c = UnitFactory(name="丙中心")
    people = {name: UserFactory(username=name, first_name=name) for name in
              ("admin_a", "reviewer", "finance", "admin_c", "lead", "nobody")}
    membership_grant(user=people["admin_a"], unit=unit_a, role=Role.ADMIN)
    membership_grant(user=people["reviewer"], unit=bureau, role=Role.REVIEWER)
    membership_grant(user=people["finance"], unit=finance, role=Role.REVIEWER)
    membership_grant(user=people["admin_c"], unit=unit_c, role=Role.ADMIN)
    membership_grant(user=people["lead"], unit=unit_a, role=Role.LEAD)
    training = ProjectFactory(unit=unit_a, name="培训项目", lead=people["lead"])
    roads = ProjectFactory(unit=unit_b, name="道路项目")
    clinics = ProjectFactory(unit=unit_c, name="诊所项目")
    # Submitted in this order: A's September first, then B's July, then A's August.
    reports = {
        "a_sept": submitted(training, SEPTEMBER, lead=people["lead"]),
        "b_july": submitted(roads, JULY),
        "a_aug": submitted(training, AUGUST, lead=people["lead"]),
        "c_july": submitted(clinics, JULY),
    }
    base = timezone.now() - dt.timedelta(days=10)
    for offset, key in enumerate(("a_sept", "b_july", "a_aug", "c_july")):
        Report.objects.filter(pk=reports[key].pk).update(submitted_at=base + dt.timedelta(days=offset))
    # Not waiting: a draft, an approved report, a returned one.
    submitted(training, dt.date(2026, 10, 31), submit=False)
    report_approve(report=submitted(roads, AUGUST), user=None)
    report_return(report=submitted(roads, SEPTEMBER), reason="数据有误", user=None)
    return {"units": (finance, bureau, unit_a, unit_b, unit_c), "people": people, "reports": reports}


def queue_of(user):
    return [r.pk for r in reports_awaiting_review(user=user)]


def test_each_user_sees_the_reports_waiting_for_their_decision_oldest_first(tree):
    people, reports = tree["people"], tree["reports"]
    a_sept, b_july, a_aug, c_july = (reports[k].pk for k in ("a_sept", "b_july", "a_aug", "c_july"))
    assert queue_of(people["admin_a"]) == [a_sept, a_aug]  # approves and returns its own unit's
    assert queue_of(people["reviewer"]) == [a_sept, b_july, a_aug]  # returns the units under the 主管部门
    assert queue_of(people["finance"]) == [a_sept, b_july, a_aug]  # and two levels down
    assert queue_of(people["admin_c"]) == [c_july]
    assert queue_of(people["lead"]) == [] and queue_of(people["nobody"]) == []
    assert queue_of(UserFactory(is_superuser=True)) == [a_sept, b_july, a_aug, c_july]


def test_the_queue_covers_exactly_the_units_the_permissions_allow(tree):
    """One SQL subquery stands for units_for_user (administered units, reviewed subtrees): the same units."""
    for user in tree["people"].values():
        visible = set(units_for_user(user=user).values_list("pk", flat=True))
        units = set(reports_awaiting_review(user=user).values_list("table__unit_id", flat=True))
        assert units <= visible
        waiting = set(Report.objects.filter(status=Report.Status.SUBMITTED, table__unit__in=visible)
                      .values_list("pk", flat=True))
        assert set(queue_of(user)) == waiting, user.username


def test_the_count_is_one_query_for_everyone(tree, django_assert_num_queries):
    for name, expected in (("admin_a", 2), ("reviewer", 3), ("finance", 3), ("lead", 0)):
        user = tree["people"][name]
        with django_assert_num_queries(1):
            assert review_count(user=user) == expected
    superuser = UserFactory(is_superuser=True)
    with django_assert_num_queries(1):
        assert review_count(user=superuser) == 4


def test_a_closed_year_leaves_the_queue_and_is_listed_apart(tree, client):
    people, (_, _, unit_a, *_rest) = tree["people"], tree["units"]
    unit_year_close(unit=unit_a, year=2026, user=people["admin_a"], force=True)
    assert review_count(user=people["admin_a"]) == 0
    assert queue_of(people["reviewer"]) == [tree["reports"]["b_july"].pk]
    client.force_login(people["admin_a"])
    page = client.get(reverse("reviews:queue")).content.decode()
    assert "目前没有等待您审核的填报" in page
    assert "已关账年度中未审核的填报" in page and "不能再审核通过或退回" in page
    assert reverse("yearclose:unit-year", args=[unit_a.pk, 2026]) in page


def test_the_navigation_shows_the_count_to_those_who_review(tree, client):
    client.force_login(tree["people"]["reviewer"])
    page = client.get(reverse("home")).content.decode()
    nav = page.split("<nav>", 1)[1].split("</nav>", 1)[0]
    assert re.search(r'href="/reviews/"[^>]*>待审核 <span class="nav-count">\(3\)</span></a>', nav)
    client.force_login(tree["people"]["lead"])
    nav = client.get(reverse("home")).content.decode().split("<nav>", 1)[1].split("</nav>", 1)[0]
    assert "待审核" not in nav and "/reviews/" not in nav
    client.force_login(tree["people"]["admin_c"])
    report_approve(report=tree["reports"]["c_july"], user=tree["people"]["admin_c"])
    nav = client.get(reverse("home")).content.decode().split("<nav>", 1)[1].split("</nav>", 1)[0]
    assert ">待审核</a>" in nav  # nothing waiting: no count


def test_each_row_opens_the_report_at_its_date_with_its_review_buttons(tree, client):
    people, reports = tree["people"], tree["reports"]
    client.force_login(people["admin_a"])
    page = client.get(reverse("reviews:queue")).content.decode()
    links = re.findall(r'href="(/tables/\d+/report/\?as_of=[\d-]+#review)"', page)
    table = reports["a_sept"].table
    assert links == [f"/tables/{table.pk}/report/?as_of=2026-09-30#review",
                     f"/tables/{table.pk}/report/?as_of=2026-08-31#review"]
    assert "培训项目" in page and "甲中心" in page and "审核通过 / 退回" in page
    report_page = client.get(links[0].split("#")[0]).content.decode()
    assert 'id="review"' in report_page and "审核通过" in report_page

    client.force_login(people["reviewer"])
    page = client.get(reverse("reviews:queue")).content.decode()
    assert page.count("可退回") == 3 and "审核通过 / 退回" not in page  # a reviewer may only return


def test_approving_from_the_queue_takes_the_report_off_it(tree, client):
    people, report = tree["people"], tree["reports"]["a_sept"]
    client.force_login(people["admin_a"])
    response = client.post(reverse("reports:review", args=[report.pk]), {"action": "approve"}, follow=True)
    assert "已审核通过" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Report.Status.APPROVED
    page = client.get(reverse("reviews:queue")).content.decode()
    assert f"as_of={SEPTEMBER:%Y-%m-%d}#review" not in page and f"as_of={AUGUST:%Y-%m-%d}#review" in page
    assert review_count(user=people["admin_a"]) == 1


def test_the_queue_page_query_count_does_not_grow_with_reports(tree, client, django_assert_num_queries):
    reviewer = tree["people"]["reviewer"]
    client.force_login(reviewer)
    # Session and user 2, the queue 1, the closed years' list 1, who may approve 1; navigation: may see
    # scorecards 3, may import 1, the count 1.
    with django_assert_num_queries(8):
        client.get(reverse("reviews:queue"))
    unit_b = tree["units"][3]
    for n in range(5):
        submitted(ProjectFactory(unit=unit_b, name=f"新项目{n}"), JULY)
    with django_assert_num_queries(8):
        page = client.get(reverse("reviews:queue")).content.decode()
    assert page.count("#review") == 8
