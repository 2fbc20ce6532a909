"""A media storage that fails as the OS would, for the tests of full and read-only disks."""
import errno
import logging
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage

FAULTS = [pytest.param(errno.ENOSPC, True, id="disk-full-half-written"),
          pytest.param(errno.EROFS, False, id="read-only")]


def fail_saves(monkeypatch, code: int, partial: bool) -> None:
    """Every storage save raises OSError(code): a full disk after writing part of the file (`partial`), a
    read-only one before creating it."""
    def save(self, name, content):
        if partial:
            path = Path(self.path(name))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.read(10))
        raise OSError(code, os.strerror(code), self.path(name))

    monkeypatch.setattr(FileSystemStorage, "_save", save)


def files_in_media() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def storage_errors(caplog, code: int) -> list[logging.LogRecord]:
    """The error records of jixiao.storage carrying the OS error `code` with its traceback."""
    records = [r for r in caplog.records if r.name == "jixiao.storage" and r.levelno == logging.ERROR]
    return [r for r in records if r.exc_info and r.exc_info[1].errno == code]
