"""The navigation's 绩效看板 link: shown exactly to those `units_for_user` gives a unit, in one query."""
import pytest
from django.contrib.auth.models import AnonymousUser

from budgets.selectors import units_for_user
from kpi import permissions
from tests.factories import UnitFactory, UnitMembershipFactory, UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [(), ("lead",), ("admin",), ("reviewer",), ("lead", "reviewer"), "superuser"])
def test_the_scorecards_link_follows_what_the_user_may_see(roles, django_assert_num_queries):
    user = UserFactory(is_superuser=roles == "superuser")
    parent = UnitFactory()
    for role in () if roles == "superuser" else roles:
        UnitMembershipFactory(user=user, unit=UnitFactory(parent=parent), role=role)
    expected = units_for_user(user=user).exists()
    with django_assert_num_queries(0 if roles == "superuser" else 1):
        seen = permissions.can_see_scorecards(user)
    assert seen is expected
    assert seen is (roles == "superuser" or bool({"admin", "reviewer"} & set(roles)))


def test_an_anonymous_visitor_sees_no_scorecards_link():
    assert permissions.can_see_scorecards(AnonymousUser()) is False
