"""`Idempotency-Key`: a POST retried with the same key (after a lost answer, a timeout) gets the first
request's response again, with `Idempotent-Replayed: true`, and changes nothing twice.

The key is the client's (a UUID, say), kept per user for 24 hours. Only a successful (2xx) response is kept:
after an error the retry runs anew. The same key with another request (path or body) is a 422; a retry
arriving while the first request still runs waits for it (the claim is a row of the same transaction).
"""
from __future__ import annotations

import hashlib
import json
from contextlib import suppress
from functools import wraps

from django.db import DatabaseError
from django.http.request import RawPostDataException
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from . import services
from .errors import ApiError, conflict, invalid

HEADER = "Idempotency-Key"
MAX_LENGTH = 255


def _fingerprint(request) -> str:
    try:
        body = request.body
    except RawPostDataException:  # already read as a form: its parsed content stands for it
        body = json.dumps(request.data, sort_keys=True, default=str).encode()
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), body):
        digest.update(part + b"\0")
    return digest.hexdigest()


def idempotent(handler):
    """Wrap a POST handler of an APIView (after authentication, inside the request's transaction)."""

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        key = key.strip()
        if not 0 < len(key) <= MAX_LENGTH:
            raise invalid({HEADER: [f"{HEADER} 应为 1–{MAX_LENGTH} 个字符（如一个 UUID）。"]},
                          detail=f"{HEADER} 无效。")
        fingerprint = _fingerprint(request)
        claim, claimed = services.idempotency_claim(user=request.user, key=key, fingerprint=fingerprint)
        if not claimed:
            if claim.fingerprint != fingerprint:
                raise ApiError(f"该 {HEADER} 已用于另一个请求（路径或内容不同）：新的请求请使用新的键。",
                               status_code=422)
            if claim.status_code is None:
                raise conflict(f"使用同一 {HEADER} 的请求正在处理中，请稍后重试。")
            response = Response(claim.response, status=claim.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception:
            # A refusal (404, 403, 409 …) gives the key back. A database failure rolls the whole request back,
            # the claim with it: its release may then fail, and the original error is the one to see.
            with suppress(DatabaseError):
                services.idempotency_release(claim=claim)
            raise
        if 200 <= response.status_code < 300:
            stored = json.loads(JSONRenderer().render(response.data))
            services.idempotency_keep(claim=claim, status_code=response.status_code, response=stored)
        else:
            services.idempotency_release(claim=claim)
        return response

    return wrapper
