"""Personal access tokens of the API, and the first responses of POSTs made with an Idempotency-Key."""
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q


class AccessToken(models.Model):
    """个人访问令牌 — a personal access token: only its SHA-256 is kept (the secret is shown once, at creation).

    Read-only tokens may only read; read-write ones may also do what their user may do on the pages.
    A revoked token opens nothing. Using a token writes nothing (no "last used" time: a GET never writes).
    """

    class Access(models.TextChoices):
        READ = "read", "只读"
        WRITE = "write", "读写"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField("名称", max_length=100, help_text="用途，如“预算系统同步”")
    access = models.CharField("权限", max_length=5, choices=Access.choices, default=Access.READ)
    # The first characters of the secret, shown in lists so that people recognise their tokens.
    prefix = models.CharField("令牌开头", max_length=16)
    digest = models.CharField("SHA-256", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "个人访问令牌"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(access__in=["read", "write"]), name="api_token_access_known"),
        ]

    def __str__(self):
        return f"{self.name}（{self.prefix}…，{self.get_access_display()}）"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def may_write(self) -> bool:
        return self.access == self.Access.WRITE


class IdempotentRequest(models.Model):
    """A POST made with an `Idempotency-Key` header and its first response, returned again to a retry.

    Claimed (no response yet) when the request starts, in the request's transaction; the response is kept
    when it succeeded (2xx), and the claim given up otherwise, so a retry after an error runs again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField("Idempotency-Key", max_length=255)
    # SHA-256 of the method, the path and the body: the same key sent with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "幂等请求"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_key_once_per_user")]

    def __str__(self):
        return f"{self.key} → {self.status_code or '处理中'}"
