"""Structured logs: one JSON line per record, one record per request and per task (who, what, how long).

Errors keep their traceback in the log (`exc_info`), never in the response: production pages show the
site's own 500 page.
"""
from __future__ import annotations

import json
import logging
import time
import traceback

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", …extra fields…, "traceback"}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["traceback"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(entry, ensure_ascii=False)


request_logger = logging.getLogger("jixiao.request")
task_logger = logging.getLogger("jixiao.task")


class RequestLogMiddleware:
    """One line per request: method, path, view, the objects it names, status, time, user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        request_logger.info(
            "%s %s %s", request.method, request.path, response.status_code,
            extra={
                "event": "request", "method": request.method, "path": request.path,
                "status": response.status_code, "ms": round((time.perf_counter() - started) * 1000, 1),
                "view": match.view_name if match else None,
                "objects": json.dumps(match.kwargs, ensure_ascii=False) if match and match.kwargs else None,
                "user": user.get_username() if user is not None and user.is_authenticated else None,
            },
        )
        return response


def task_started(task_id=None, task=None, args=None, kwargs=None, **_):
    task.request.__dict__.setdefault("_jixiao_started", time.perf_counter())


def task_finished(task_id=None, task=None, args=None, kwargs=None, state=None, **_):
    started = task.request.__dict__.get("_jixiao_started")
    task_logger.info(
        "task %s %s", task.name, state,
        extra={"event": "task", "task": task.name, "task_id": task_id, "state": state,
               "task_args": json.dumps(list(args or ()), ensure_ascii=False, default=str),
               "ms": round((time.perf_counter() - started) * 1000, 1) if started else None},
    )


def task_failed(task_id=None, exception=None, args=None, einfo=None, sender=None, **_):
    task_logger.error(
        "task %s failed: %s", getattr(sender, "name", "?"), type(exception).__name__,
        exc_info=(type(exception), exception, exception.__traceback__),
        extra={"event": "task_failure", "task": getattr(sender, "name", None), "task_id": task_id,
               "task_args": json.dumps(list(args or ()), ensure_ascii=False, default=str)},
    )
