"""Sending Celery messages without failing what was already saved.

A message is sent after the transaction that caused it commits. When the broker is down the change is
saved all the same: the failure is logged, and the periodic sweep (kpi.tasks.rescore_stale_sweep) finds
what the message would have done — stale tables, stalled jobs — and does it once the broker is back.
"""
from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What a publisher raises when it cannot reach the broker (kombu wraps socket and Redis errors).
BROKER_ERRORS = (OperationalError, ConnectionError, OSError)


def send_now(task, *args) -> bool:
    """Send one message; False (and a warning in the log) when the broker cannot be reached."""
    try:
        task.delay(*args)
    except BROKER_ERRORS as error:
        logger.warning("could not enqueue %s%s: %s: %s (the sweep will catch up)", task.name, args,
                       type(error).__name__, error, extra={"event": "enqueue_failed", "task": task.name})
        return False
    return True


def send_after_commit(task, *args) -> None:
    """Send one message once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(partial(send_now, task, *args))
