"""Personal access tokens in the administration site: seen and revoked (a leaked token, a person leaving),
never created or edited there — a token's secret is shown once, to its owner, on their own page."""
from django.contrib import admin, messages

from .models import AccessToken
from .services import token_revoke


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "access", "created_at", "revoked_at")
    list_filter = ("access", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "user__username", "user__first_name", "user__last_name")
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "access", "prefix", "created_at", "revoked_at")
    exclude = ("digest",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="撤销所选令牌")
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            token_revoke(token=token)
        self.message_user(request, f"已撤销 {len(tokens)} 个令牌。", messages.SUCCESS)
