"""Every error of the API in one shape: `{"detail": "说明", "errors": {"字段": ["说明", …]}}` (errors `{}` when
no field is concerned), with the status that says whose move it is:

- 400 what was sent cannot be taken (per field; per entry for a report's entries);
- 401 no credentials, or a token unknown or revoked; 403 not allowed (a read-only token writing, a lead
  approving); 404 not found — also every object outside the user's scope, exactly as on the pages;
- 409 the object's state refuses it: a closed year (关账), a submitted report, a newer save of the same
  indicator, a table still being rescored (评分更新中);
- 422 an Idempotency-Key already used for another request; 429 too many requests (Retry-After).
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

INVALID = "有填写错误，请按 errors 中的提示修改。"
NOT_FOUND = "未找到：对象不存在，或不在您可查看的范围内。"


class ApiError(exceptions.APIException):
    """An error with its status, message and per-field errors."""

    def __init__(self, detail: str, *, status_code: int, errors: dict | None = None):
        self.status_code = status_code
        super().__init__(detail)
        self.errors = errors or {}


def invalid(errors: dict, detail: str = INVALID) -> ApiError:
    return ApiError(detail, status_code=status.HTTP_400_BAD_REQUEST, errors=errors)


def conflict(detail: str, errors: dict | None = None) -> ApiError:
    return ApiError(detail, status_code=status.HTTP_409_CONFLICT, errors=errors)


def service_error(error: DjangoValidationError) -> ApiError:
    """A service's ValidationError: one naming fields is what was sent (400, per field); one without
    fields is the object's state refusing the change (409: a closed year, a report already submitted…)."""
    if hasattr(error, "error_dict"):
        return invalid({name: list(messages) for name, messages in error.message_dict.items()},
                       detail="；".join(error.messages))
    return conflict("；".join(error.messages))


def _flat(data) -> dict:
    if isinstance(data, dict):
        return dict(data)
    return {"non_field_errors": data if isinstance(data, list) else [data]}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: the site's 500, with its traceback in the log
    if isinstance(exc, ApiError):
        detail, errors = str(exc.detail), exc.errors
    elif isinstance(exc, exceptions.ValidationError):
        detail, errors = INVALID, _flat(response.data)
    elif isinstance(exc, exceptions.Throttled):
        wait = f"请 {int(exc.wait) + 1} 秒后再试" if exc.wait is not None else "请稍后再试"
        detail, errors = f"请求过于频繁，{wait}（按令牌计数）。", {}
    elif isinstance(exc, exceptions.NotAuthenticated):
        detail, errors = "需要认证：请在 Authorization 请求头中提供“Bearer <令牌>”，或先登录。", {}
    elif isinstance(exc, exceptions.ParseError):
        detail, errors = f"请求体不是有效的 JSON：{exc.detail}", {}
    else:
        detail, errors = str(exc.detail) if not isinstance(exc.detail, (dict, list)) else INVALID, {}
        if isinstance(exc.detail, (dict, list)):
            errors = _flat(response.data)
    response.data = {"detail": detail, "errors": errors}
    return response
