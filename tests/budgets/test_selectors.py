"""Who sees what: scoping by role and by the 主管部门 tree lives in the selectors."""
import pytest

from budgets.selectors import projects_for_user, units_for_user
from budgets.services import membership_grant
from tests.factories import ProjectFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    bureau = UnitFactory(name="主管局")
    centre = UnitFactory(name="中心", parent=bureau)
    branch = UnitFactory(name="分中心", parent=centre)
    elsewhere = UnitFactory(name="别的局")
    return bureau, centre, branch, elsewhere


def test_a_reviewer_sees_the_whole_subtree_and_nothing_else(tree):
    bureau, centre, branch, elsewhere = tree
    reviewer = UserFactory()
    membership_grant(user=reviewer, unit=bureau, role="reviewer")
    assert set(units_for_user(user=reviewer)) == {bureau, centre, branch}
    project = ProjectFactory(unit=branch)
    ProjectFactory(unit=elsewhere)
    assert list(projects_for_user(user=reviewer)) == [project]
    assert reviewer.groups.filter(name="主管部门/财政审核").exists()


def test_an_administrator_sees_only_their_unit(tree):
    _bureau, centre, branch, _elsewhere = tree
    admin = UserFactory()
    membership_grant(user=admin, unit=centre, role="admin")
    membership_grant(user=admin, unit=centre, role="admin")  # twice is harmless
    assert list(units_for_user(user=admin)) == [centre]
    mine = ProjectFactory(unit=centre)
    ProjectFactory(unit=branch)
    assert list(projects_for_user(user=admin)) == [mine]


def test_a_lead_sees_only_the_projects_they_lead(tree):
    _bureau, centre, *_ = tree
    lead = UserFactory()
    membership_grant(user=lead, unit=centre, role="lead")
    led = ProjectFactory(unit=centre, lead=lead)
    ProjectFactory(unit=centre)
    assert list(projects_for_user(user=lead)) == [led]
    assert not units_for_user(user=lead).exists()


def test_unknown_role_is_refused(tree):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="未知角色"):
        membership_grant(user=UserFactory(), unit=tree[0], role="boss")
