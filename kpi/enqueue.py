"""Sending Celery messages without failing what was already saved.

A message is sent after the transaction that caused it commits. When the broker is down the change is
saved all the same: the failure is logged, and the periodic sweep (kpi.tasks.rescore_stale_sweep) finds
what the message would have done — stale tables, stalled jobs — and does it once the broker is back.
"""
from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
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


class CommitBatch:
    """Ids gathered over one transaction and handed to `action` once, when it commits (at once outside a
    transaction): recording fifty actuals of a table in one request asks for one rescore, not fifty.

    Each thread's open batch is held weakly: Django holds the callback until the transaction commits or rolls
    back, so a rolled-back transaction's batch dies with it and its ids are never handed on by the next one.
    `robust`: a failing action is logged by Django and never fails the commit that asked."""

    _instances: weakref.WeakSet[CommitBatch] = weakref.WeakSet()

    def __init__(self, action: Callable[[list[int]], None], *, robust: bool = False):
        self.action = action
        self.robust = robust
        self._local = threading.local()
        CommitBatch._instances.add(self)

    def add(self, ids: Iterable[int]) -> None:
        ids = [pk for pk in ids if pk is not None]
        if not ids:
            return
        if not transaction.get_connection().in_atomic_block:
            transaction.on_commit(partial(self.action, ids), robust=self.robust)  # runs now
            return
        ref = getattr(self._local, "batch", None)
        batch = ref() if ref is not None else None
        if batch is None or batch.sent:
            batch = _Batch(self.action)
            transaction.on_commit(batch, robust=self.robust)
            self._local.batch = weakref.ref(batch)
        batch.ids.update(dict.fromkeys(ids))

    def forget(self) -> None:
        """Drop this thread's open batch (tests: a fixture's transaction never commits)."""
        self._local = threading.local()

    @classmethod
    def forget_all(cls) -> None:
        for batch in list(cls._instances):
            batch.forget()


class _Batch:
    def __init__(self, action):
        self.action = action
        self.ids: dict[int, None] = {}  # an ordered set
        self.sent = False
        # Django names a failing robust callback by its __qualname__ in the log
        self.__qualname__ = f"CommitBatch({getattr(action, '__qualname__', type(action).__name__)})"

    def __call__(self):
        self.sent = True
        self.action(list(self.ids))
