"""A 自评表 kept (存档) or a bundle built on a full or read-only disk: a clear message, no partial file, no
row (a bundle is marked failed saying why), the error logged with its traceback, never shown."""
import errno
import logging
import os
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.urls import reverse

from kpi.models import SelfEvalReport
from kpi.selfeval import services
from kpi.selfeval.tasks import selfeval_bundle_run
from kpi.storage import STORAGE_MESSAGE

pytestmark = pytest.mark.django_db
FAULTS = [pytest.param(errno.ENOSPC, True, id="disk-full-half-written"),
          pytest.param(errno.EROFS, False, id="read-only")]


@pytest.fixture
def disk_fault(monkeypatch):
    def fault(code: int, partial: bool):
        def save(self, name, content):
            if partial:
                path = Path(self.path(name))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content.read(100))
            raise OSError(code, os.strerror(code), self.path(name))
        monkeypatch.setattr(FileSystemStorage, "_save", save)
    return fault


def files_in_media() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def storage_errors(caplog, code):
    records = [r for r in caplog.records if r.name == "jixiao.storage" and r.levelno == logging.ERROR]
    return [r for r in records if r.exc_info and r.exc_info[1].errno == code]


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
@pytest.mark.parametrize("code, partial", FAULTS)
def test_keeping_a_table_report_on_a_full_disk_says_so_and_keeps_nothing(client, world, disk_fault, caplog,
                                                                       code, partial, fmt):
    client.force_login(world.lead)
    disk_fault(code, partial)
    response = client.post(reverse("selfeval:download", args=[world.table.pk]), {"format": fmt})
    assert response.status_code == 503
    assert response.content.decode() == STORAGE_MESSAGE and "Errno" not in response.content.decode()
    assert not SelfEvalReport.objects.exists() and files_in_media() == []
    assert storage_errors(caplog, code)


def _start_bundle(world, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(selfeval_bundle_run, "delay", lambda *args: None)
    with django_capture_on_commit_callbacks(execute=True):
        return services.selfeval_bundle_start(unit=world.unit, year=2026, user=world.admin)


@pytest.mark.parametrize("code, partial", FAULTS)
def test_a_bundle_on_a_full_disk_fails_saying_so_and_keeps_no_file(world, disk_fault, caplog, monkeypatch,
                                                                  django_capture_on_commit_callbacks, code, partial):
    report = _start_bundle(world, django_capture_on_commit_callbacks, monkeypatch)
    disk_fault(code, partial)
    selfeval_bundle_run(report.pk)  # no exception: nothing a retry at once would fix
    report.refresh_from_db()
    assert (report.status, report.error, report.file.name) == ("failed", STORAGE_MESSAGE, "")
    assert services.bundle_progress(report=report)["error"] == STORAGE_MESSAGE
    assert files_in_media() == []
    assert storage_errors(caplog, code)


def test_a_bundle_whose_temporary_zip_fills_the_disk_fails_saying_so(world, caplog, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    report = _start_bundle(world, django_capture_on_commit_callbacks, monkeypatch)

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full)
    selfeval_bundle_run(report.pk)
    report.refresh_from_db()
    assert (report.status, report.error) == ("failed", STORAGE_MESSAGE)
    assert files_in_media() == [] and storage_errors(caplog, errno.ENOSPC)
