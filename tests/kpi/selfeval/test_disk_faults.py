"""A 自评表 kept (存档) or a bundle built on a full or read-only disk: a clear message, no partial file, no
row (a bundle is marked failed saying why), the error logged with its traceback, never shown."""
import errno
import os
import zipfile

import pytest
from django.urls import reverse

from kpi.models import SelfEvalReport
from kpi.selfeval import services
from kpi.selfeval.tasks import selfeval_bundle_run
from kpi.storage import STORAGE_MESSAGE
from tests.disk_faults import FAULTS, fail_saves, files_in_media, storage_errors

pytestmark = pytest.mark.django_db
@pytest.fixture
def disk_fault(monkeypatch):
    return lambda code, partial: fail_saves(monkeypatch, code, partial)


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
