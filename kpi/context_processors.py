"""Template context every page needs (the navigation bar)."""
from django.utils.functional import SimpleLazyObject

from budgets.selectors import units_administered_by, units_for_user


def navigation(request):
    """`can_import`: show the 导入目标表 link to unit administrators; `can_see_scorecards`: the 绩效看板 link
    to whoever may see a unit's data. Each is asked only when a page renders it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can_import": False, "can_see_scorecards": False}
    return {
        "can_import": SimpleLazyObject(lambda: units_administered_by(user=user).exists()),
        "can_see_scorecards": SimpleLazyObject(lambda: units_for_user(user=user).exists()),
    }
