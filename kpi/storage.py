"""Writing files to the media storage when the disk may be full or read-only.

The storage's own save leaves what it wrote so far when a write fails half-way; here that partial file is
removed, the error is logged with its traceback and the caller gets StorageUnavailable with a message for
the user (never the OS error itself).
"""
from __future__ import annotations

import errno
import logging
from contextlib import contextmanager

from django.core.files.storage import Storage

logger = logging.getLogger("jixiao.storage")

STORAGE_MESSAGE = "服务器存储空间不足或不可写，文件未保存，请稍后重试或联系管理员。"
# No space, over quota, read-only, not writable, a failing disk: nothing the user can fix by retrying at once.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO})


class StorageUnavailable(Exception):
    """A file could not be written: the disk is full or not writable. str() is the user's message."""

    def __init__(self, message: str = STORAGE_MESSAGE):
        super().__init__(message)
        self.message = message


def is_storage_error(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in STORAGE_ERRNOS


@contextmanager
def storage_faults(what: str):
    """Turn a full or read-only disk met inside the block (temporary files included) into StorageUnavailable,
    logged with its traceback; other errors pass unchanged."""
    try:
        yield
    except OSError as error:
        if not is_storage_error(error):
            raise
        logger.error("storage write failed: %s", what, exc_info=True, extra={"event": "storage_full"})
        raise StorageUnavailable() from error


def storage_save(storage: Storage, name: str, content, *, max_length: int | None = None) -> str:
    """storage.save() that leaves no partial file behind when the disk is full or read-only (then
    StorageUnavailable); returns the stored name."""
    target = storage.get_available_name(name, max_length=max_length)
    with storage_faults(target):
        try:
            return storage.save(target, content, max_length=max_length)
        except OSError:
            _remove_quietly(storage, target)
            raise


@contextmanager
def storage_remove_on_error(storage: Storage, name: str):
    """Remove a stored file when the block fails (the row naming it was not written), then re-raise."""
    try:
        yield
    except BaseException:
        _remove_quietly(storage, name)
        raise


def _remove_quietly(storage: Storage, name: str) -> None:
    try:
        if storage.exists(name):
            storage.delete(name)
    except OSError:  # a read-only disk keeps the file; the error that mattered is the caller's
        logger.warning("could not remove the partial file %s", name, exc_info=True)
