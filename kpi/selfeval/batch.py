"""Rendering the documents of a bundle, on every core the machine has.

A unit's bundle is two thousand independent documents. Rendering them is pure CPU (fpdf2, openpyxl) in
Python, so one process uses one core: with `processes` > 1 the documents are rendered by forked processes
while this one writes what is ready, in order. The entries are inherited through the fork (set just before
it), not sent; only an index goes out and a document's bytes come back. The children never touch the
database: what they render was read before the fork.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager

# (entries, render) of the batch being rendered; read by the forked processes.
_BATCH: tuple[Sequence, Callable] | None = None
PROGRESS_EVERY_SECONDS = 1.0
PARENT_CHECK_SECONDS = 0.5


def render_all(entries: Sequence, render: Callable[[object], bytes], *, processes: int,
               on_progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The bytes of `render(entry)` for each entry, in order. `on_progress(n)` is called (in this process)
    with how many documents are rendered so far, at least every second while waiting."""
    if processes <= 1 or len(entries) < 2 * processes:
        for done, entry in enumerate(entries, start=1):
            yield render(entry)
            if on_progress:
                on_progress(done)
        return
    global _BATCH
    _BATCH = (entries, render)
    try:
        with _may_have_children(), \
                ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork"),
                                    initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
            # Counted as they finish, not by asking every future after each document: that was quadratic
            # (four million calls for a 2,000-document bundle), CPU this process took from the renderers.
            finished = _Counter()
            futures = [pool.submit(_render_one, index) for index in range(len(entries))]
            for future in futures:
                future.add_done_callback(finished.add)
            for index, future in enumerate(futures):
                while True:
                    try:
                        data = future.result(timeout=PROGRESS_EVERY_SECONDS)
                        break
                    except FutureTimeout:
                        if on_progress:
                            on_progress(max(finished.value, index))
                yield data
                if on_progress:
                    # a future's callbacks run just after its result is out: this one's may not have yet
                    on_progress(max(finished.value, index + 1))
    finally:
        _BATCH = None


class _Counter:
    """How many futures are done; `add` is their done callback (run in the pool's thread)."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self, _future) -> None:
        with self._lock:
            self.value += 1


@contextmanager
def _may_have_children():
    """A Celery prefork pool process is marked daemonic, and multiprocessing refuses to start children from a
    daemonic process, lest they outlive it. These children do not: the pool is shut down (and waited for)
    before render_all returns, and a child whose parent was killed exits (_exit_with_parent)."""
    config = multiprocessing.current_process()._config  # no public way to read or lift the flag
    daemon = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        if daemon is None:
            config.pop("daemon", None)
        else:
            config["daemon"] = daemon


def _exit_with_parent(parent: int) -> None:
    """In each child: exit as soon as the parent is gone (a worker killed mid-bundle), instead of waiting
    forever for tasks that will never come."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _render_one(index: int) -> bytes:
    entries, render = _BATCH
    return render(entries[index])
