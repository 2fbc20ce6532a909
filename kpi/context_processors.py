"""Template context every page needs (the navigation bar)."""
from django.utils.functional import SimpleLazyObject

from budgets.selectors import units_administered_by


def navigation(request):
    """`can_import`: show the 导入目标表 link to unit administrators; asked only when a page renders it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can_import": False}
    return {"can_import": SimpleLazyObject(lambda: units_administered_by(user=user).exists())}
