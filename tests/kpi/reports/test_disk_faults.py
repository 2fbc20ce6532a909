"""An evidence upload on a full or read-only disk: a clear message, no partial file, no row, the error in the
log with its traceback (never on the page)."""
import errno
import os

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse

from kpi.models import Evidence
from kpi.storage import STORAGE_MESSAGE
from tests.disk_faults import FAULTS, fail_saves, files_in_media, storage_errors

from .conftest import entry_data, page_url, row_html

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
@pytest.fixture
def disk_fault(monkeypatch):
    return lambda code, partial: fail_saves(monkeypatch, code, partial)


def assert_logged_with_traceback(caplog, code):
    assert storage_errors(caplog, code)  # the OS error itself, with its traceback


@pytest.mark.parametrize("code, partial", FAULTS)
def test_an_upload_in_the_entry_form_says_so_beside_the_row_and_keeps_nothing(client, setup, disk_fault, caplog,
                                                                             code, partial):
    count = setup.named("培训人次")
    client.force_login(setup["lead"])
    disk_fault(code, partial)
    data = entry_data({count: {"value": "95"}}, action=None)
    data.update({"upload": str(count.pk), f"evidence-{count.pk}": SimpleUploadedFile("签到表.pdf", PDF)})
    response = client.post(page_url(setup["table"]), data)
    page = response.content.decode()
    assert response.status_code == 503
    assert f"“签到表.pdf”未上传：{STORAGE_MESSAGE}" in row_html(page, count)
    assert f'name="i{count.pk}-value" value="95"' in page  # what was typed is kept
    assert os.strerror(code) not in page and "Errno" not in page
    assert not Evidence.objects.exists() and not Evidence.history.exists()
    assert files_in_media() == []
    assert_logged_with_traceback(caplog, code)


@pytest.mark.parametrize("code, partial", FAULTS)
def test_the_upload_url_says_so_and_keeps_nothing(client, setup, disk_fault, caplog, code, partial):
    count = setup.named("培训人次")
    client.force_login(setup["lead"])
    disk_fault(code, partial)
    response = client.post(reverse("reports:evidence-upload", args=[setup["table"].pk, count.pk]),
                           {"file": SimpleUploadedFile("签到表.pdf", PDF), "as_of": "2026-07-31"}, follow=True)
    page = response.content.decode()
    assert f"“培训人次”的佐证资料未上传：{STORAGE_MESSAGE}" in page and "Errno" not in page
    assert not Evidence.objects.exists() and files_in_media() == []
    assert_logged_with_traceback(caplog, code)


def test_a_row_that_cannot_be_written_leaves_no_file(setup, monkeypatch):
    from kpi.reports.services import evidence_add

    def refuse(self, *args, **kwargs):
        raise IntegrityError("database refused")

    monkeypatch.setattr(Evidence, "save", refuse)
    with pytest.raises(IntegrityError):
        evidence_add(indicator=setup.named("培训人次"), upload=SimpleUploadedFile("a.pdf", PDF), max_bytes=10_000)
    assert files_in_media() == []


def test_other_os_errors_are_not_taken_for_a_full_disk(setup, monkeypatch):
    from kpi.reports.services import evidence_add

    def save(self, name, content):
        raise OSError(errno.ENAMETOOLONG, "File name too long")

    monkeypatch.setattr(FileSystemStorage, "_save", save)
    with pytest.raises(OSError) as error:
        evidence_add(indicator=setup.named("培训人次"), upload=SimpleUploadedFile("a.pdf", PDF), max_bytes=10_000)
    assert error.value.errno == errno.ENAMETOOLONG
