"""绩效看板 roll-up for 主管部门 reviewers: the visible units as a tree with their figures, the year, queries."""
from decimal import Decimal

import pytest
from django.urls import reverse

from budgets.services import membership_grant
from kpi.monitoring import Light
from tests.factories import ProjectFactory, UnitFactory, table_with_indicators

from .builders import YEAR, count_queries, no_enqueue, scored_project, unit_world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def rows_by_name(response):
    return {row.unit.name: row for row in response.context["rows"]}


def test_a_reviewer_sees_the_units_below_as_a_tree_with_their_figures(client, unit_world):
    scored_project(unit_world["other"], "就业培训", value="10", executed="50", budget=Decimal("200"))
    client.force_login(unit_world["people"]["reviewer"])
    response = client.get(reverse("scorecards:home"))
    assert response.context["year"] == YEAR
    assert [(row.unit.name, row.depth) for row in response.context["rows"]] == [
        ("市人社局", 0), ("社保中心", 1), ("就业局", 1)
    ]
    rows = rows_by_name(response)
    centre = rows["社保中心"].summary
    assert (centre.projects, centre.budget, centre.executed) == (7, Decimal("700"), Decimal("378"))
    assert centre.execution_rate == Decimal("0.5400") and centre.average_total == Decimal("63.30")
    assert dict(centre.light_counts) == {Light.RED: 1, Light.YELLOW: 1, Light.BLUE: 3, Light.GREEN: 1, Light.NONE: 1}
    employment = rows["就业局"].summary
    assert (employment.projects, employment.execution_rate, employment.average_total) == (
        1, Decimal("0.2500"), Decimal("92.50")  # 90 + 10 × 0.25
    )
    bureau = rows["市人社局"]
    assert bureau.summary.projects == 0 and bureau.subtree.projects == 8
    assert bureau.subtree.budget == Decimal("900") and bureau.subtree.lights[Light.RED] == 2  # 就业培训: budget
    page = response.content.decode()
    assert reverse("scorecards:unit", args=[unit_world["unit"].pk, YEAR]) in page  # drill down
    assert "含下属单位合计" in page and "54.00%" in page


def test_an_administrator_sees_only_their_unit(client, unit_world):
    client.force_login(unit_world["people"]["admin"])
    response = client.get(reverse("scorecards:home"))
    assert [(row.unit.name, row.depth) for row in response.context["rows"]] == [("社保中心", 0)]


def test_the_year_defaults_to_the_latest_with_tables_and_can_be_chosen(client, unit_world):
    old = ProjectFactory(unit=unit_world["unit"], year=2025, name="去年项目")
    table_with_indicators(old)
    ProjectFactory(unit=unit_world["unit"], year=2027, name="明年项目（尚无目标表）")
    client.force_login(unit_world["people"]["reviewer"])
    assert client.get(reverse("scorecards:home")).context["year"] == 2026
    response = client.get(reverse("scorecards:home"), {"year": "2025"})
    assert response.context["year"] == 2025 and rows_by_name(response)["社保中心"].summary.projects == 1
    assert client.get(reverse("scorecards:home"), {"year": "abc"}).context["year"] == 2026
    assert reverse("scorecards:unit", args=[unit_world["unit"].pk, 2025]) in response.content.decode()


def test_the_navigation_link_shows_to_those_who_may_see_a_unit(client, unit_world):
    link = f'href="{reverse("scorecards:home")}"'
    for who, shown in (("reviewer", True), ("admin", True), ("lead", False)):
        client.force_login(unit_world["people"][who])
        assert (link in client.get(reverse("home")).content.decode()) is shown, who
    response = client.get(reverse("scorecards:home"))  # the lead: nothing to see, nothing leaked
    assert response.status_code == 200 and response.context["rows"] == [] and "暂无可查看的预算单位" in (
        response.content.decode()
    )


def test_the_query_count_does_not_grow_with_units_or_projects(client, unit_world, django_assert_num_queries):
    client.force_login(unit_world["people"]["reviewer"])
    # Session and user 2, the visible units 3, their years 1, every unit's figures aggregated from the stored
    # summaries 1, the stale count 1, whether the user may manage scoring policies 1 (the link to them),
    # navigation 3 (with the count waiting for review).
    with django_assert_num_queries(12):
        before, _ = count_queries(client, reverse("scorecards:home"))
    for i in range(3):
        child = UnitFactory(parent=unit_world["other"])
        for j in range(3):
            scored_project(child, f"下属项目{i}-{j}", value="8", executed="60")
    membership_grant(user=unit_world["people"]["admin"], unit=UnitFactory(), role="admin")  # not below: unseen
    with django_assert_num_queries(before):
        response = client.get(reverse("scorecards:home"))
    assert len(response.context["rows"]) == 6
    assert reverse("policies:list") in response.content.decode()  # a reviewer finds the scoring policies here
    print(f"\nroll-up: {before} queries")
