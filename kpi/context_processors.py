"""Template context every page needs (the navigation bar)."""
from django.utils.functional import SimpleLazyObject

from kpi import permissions


def navigation(request):
    """`can_import`: show the 导入目标表 link to unit administrators; `can_see_scorecards`: the 绩效看板 link
    to whoever may see a unit's data. Each is asked only when a page renders it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can_import": False, "can_see_scorecards": False}
    return {
        "can_import": SimpleLazyObject(lambda: permissions.can_import(user)),
        "can_see_scorecards": SimpleLazyObject(lambda: permissions.can_see_scorecards(user)),
    }
