"""How an API request is let in: bearer tokens (beside the browser's session), what a token may do, and
throttling per token.

- `BearerTokenAuthentication`: `Authorization: Bearer jx_…`; an unknown or revoked token is a 401.
- `TokenAccess`: a signed-in user; a read-only token may only read (403 on any write).
- `ReadThrottle` / `WriteThrottle`: the `api_read` and `api_write` rates of REST_FRAMEWORK, counted per token
  (per user on a session, per address before sign-in), reads and writes apart.

Which objects the user may see or change is not decided here: the views ask the same selectors and
`kpi.permissions` predicates as the pages.
"""
from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import SimpleRateThrottle

from .models import AccessToken
from .selectors import token_for_secret


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # no token: the session (or nobody)
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization 请求头应为“Bearer <令牌>”，令牌中不能有空格。")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("令牌无效或已撤销。") from None
        token = token_for_secret(secret=secret)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("令牌无效或已撤销。")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


def request_token(request) -> AccessToken | None:
    """The token the request came with (None on a browser session)."""
    return request.auth if isinstance(request.auth, AccessToken) else None


class TokenAccess(BasePermission):
    message = "该令牌为只读令牌，不能修改数据；如需写入，请创建“读写”令牌。"

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        token = request_token(request)
        return request.method in SAFE_METHODS or token is None or token.may_write


class _PerTokenThrottle(SimpleRateThrottle):
    """Counted per token: two tokens of one person have a budget each; a session counts for its user."""

    counts_reads = True  # this throttle counts reads (GET, HEAD, OPTIONS), else writes

    def allow_request(self, request, view) -> bool:
        if (request.method in SAFE_METHODS) != self.counts_reads:
            return True  # the other throttle counts this request
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        token = request_token(request)
        if token is not None:
            ident = f"token-{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ReadThrottle(_PerTokenThrottle):
    scope = "api_read"


class WriteThrottle(_PerTokenThrottle):
    scope = "api_write"
    counts_reads = False
