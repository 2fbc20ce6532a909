"""Template context every page needs (the navigation bar)."""
from django.utils.functional import SimpleLazyObject

from kpi import permissions
from kpi.reviews.selectors import review_count


def navigation(request):
    """`can_import`: show the 导入目标表 link to unit administrators; `can_see_scorecards`: the 绩效看板,
    监控表, 待审核 and 逾期未报 links to whoever may see a unit's data; `review_count`: how many reports wait
    for the user's decision (“待审核 (3)”, one query). Each is asked only when a page renders it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can_import": False, "can_see_scorecards": False, "review_count": 0}
    return {
        "can_import": SimpleLazyObject(lambda: permissions.can_import(user)),
        "can_see_scorecards": SimpleLazyObject(lambda: permissions.can_see_scorecards(user)),
        "review_count": SimpleLazyObject(lambda: review_count(user=user)),
    }
