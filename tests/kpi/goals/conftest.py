"""The review tree the workflow and adjustment tests share."""
import pytest

from budgets.services import membership_grant
from tests.factories import UnitFactory, UserFactory


@pytest.fixture
def review_tree(db):
    """财政局 (root) → 人社局 (主管部门) → 中心 (the unit), another tree's reviewer, and their people: the unit's
    admin and lead, the 主管部门's reviewer and own admin, the finance reviewer."""
    finance = UnitFactory(name="测试市财政局")
    bureau = UnitFactory(name="测试市人社局", parent=finance)
    unit = UnitFactory(name="测试中心", parent=bureau)
    other_root = UnitFactory(name="外市财政局")
    people = {name: UserFactory(username=name) for name in
              ("admin", "lead", "reviewer", "finance", "stranger", "peer_admin")}
    membership_grant(user=people["admin"], unit=unit, role="admin")
    membership_grant(user=people["lead"], unit=unit, role="lead")
    membership_grant(user=people["reviewer"], unit=bureau, role="reviewer")
    membership_grant(user=people["finance"], unit=finance, role="reviewer")
    membership_grant(user=people["stranger"], unit=other_root, role="reviewer")
    membership_grant(user=people["peer_admin"], unit=bureau, role="admin")  # the 主管部门's own administrator
    return {"unit": unit, "bureau": bureau, "finance_unit": finance, **people}
