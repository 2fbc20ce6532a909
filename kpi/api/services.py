"""Writes of the API's own rows: personal access tokens (create, revoke) and idempotency keys (claim, keep
the first response, give the claim up)."""
from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import AccessToken, IdempotentRequest
from .selectors import SECRET_START, secret_digest

ACTIVE_TOKENS_MAX = 20
PREFIX_LENGTH = 10  # "jx_" and seven characters: enough to recognise a token, far too few to guess it
# A key is remembered this long; after that the same key starts a new request.
IDEMPOTENCY_KEPT = dt.timedelta(hours=24)


@transaction.atomic
def token_create(*, user: AbstractBaseUser, name: str, access: str) -> tuple[AccessToken, str]:
    """Create a personal access token; returns it with its secret, which is shown once and never kept
    (only its SHA-256 is stored)."""
    if AccessToken.objects.filter(user=user, revoked_at__isnull=True).count() >= ACTIVE_TOKENS_MAX:
        raise ValidationError(f"最多可有 {ACTIVE_TOKENS_MAX} 个有效令牌：请先撤销不再使用的令牌。")
    secret = SECRET_START + secrets.token_urlsafe(32)
    token = AccessToken(user=user, name=(name or "").strip(), access=access, prefix=secret[:PREFIX_LENGTH],
                        digest=secret_digest(secret))
    token.full_clean()
    token.save()
    return token, secret


def token_revoke(*, token: AccessToken) -> AccessToken:
    """Revoke a token: it opens nothing from now on. Revoking twice keeps the first time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def idempotency_claim(*, user: AbstractBaseUser, key: str, fingerprint: str) -> tuple[IdempotentRequest, bool]:
    """Claim an Idempotency-Key for this request: (the row, True) when this request now runs, else (the row
    of the earlier request, False). Called inside the request's transaction: a second request with the same
    key waits for the first one's transaction, then finds its row."""
    IdempotentRequest.objects.filter(user=user, key=key, created_at__lt=timezone.now() - IDEMPOTENCY_KEPT).delete()
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(user=user, key=key, fingerprint=fingerprint), True
    except IntegrityError:
        return IdempotentRequest.objects.get(user=user, key=key), False


def idempotency_keep(*, claim: IdempotentRequest, status_code: int, response: dict) -> IdempotentRequest:
    """Keep a request's first (successful) response, to be returned to its retries."""
    claim.status_code, claim.response = status_code, response
    claim.save(update_fields=["status_code", "response"])
    return claim


def idempotency_release(*, claim: IdempotentRequest) -> None:
    """Give the claim up (the request failed): a retry with the same key runs anew."""
    claim.delete()
