"""Write requests run their view in one transaction; reads run in none (so on SQLite they never take the
write lock). The settings no longer wrap every request (ATOMIC_REQUESTS)."""
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from budgets.models import Unit
from config.middleware import AtomicWritesMiddleware

pytestmark = pytest.mark.django_db(transaction=True)


def seen_by_view(method: str, view=None):
    seen = {}

    def default_view(request):
        seen["atomic"] = connection.in_atomic_block
        return HttpResponse("ok")

    view = view or default_view
    request = getattr(RequestFactory(), method.lower())("/")
    middleware = AtomicWritesMiddleware(lambda r: HttpResponse("inner"))
    response = middleware.process_view(request, view, (), {})
    if response is None:  # the middleware let Django call the view as usual
        response = view(request)
    return seen, response


def test_settings_do_not_wrap_every_request():
    assert settings.DATABASES["default"]["ATOMIC_REQUESTS"] is False
    assert settings.MIDDLEWARE[-1] == "config.middleware.AtomicWritesMiddleware"


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_reads_run_in_no_transaction(method):
    seen, response = seen_by_view(method)
    assert seen == {"atomic": False} and response.status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writes_run_in_one_transaction(method):
    seen, response = seen_by_view(method)
    assert seen == {"atomic": True} and response.content == b"ok"


def test_a_failing_write_leaves_nothing_behind():
    def view(request):
        Unit.objects.create(code="TX-1", name="事务测试单位")
        raise ValueError("the view fails after writing")

    with pytest.raises(ValueError):
        seen_by_view("POST", view)
    assert not Unit.objects.filter(code="TX-1").exists()


def test_a_view_may_opt_out():
    seen = {}

    @transaction.non_atomic_requests
    def view(request):
        seen["atomic"] = connection.in_atomic_block
        return HttpResponse("ok")

    seen_by_view("POST", view)
    assert seen == {"atomic": False}


# --- request bodies past the upload limit (issue 15) ------------------------------------------------------

HUGE = str(500 * 1024 * 1024)


@pytest.fixture
def no_spooling(monkeypatch):
    """Fails the test if any upload reaches a temporary file."""
    from django.core.files import uploadhandler

    def forbidden(self, *args, **kwargs):
        raise AssertionError("the body was spooled to a temporary file")

    monkeypatch.setattr(uploadhandler.TemporaryFileUploadHandler, "new_file", forbidden)
    monkeypatch.setattr(uploadhandler.MemoryFileUploadHandler, "new_file", forbidden)


def test_the_size_limit_comes_early_in_the_middleware():
    assert settings.MIDDLEWARE.index("config.middleware.RequestSizeLimitMiddleware") == 1
    assert settings.FILE_UPLOAD_HANDLERS[0] == "config.middleware.LimitedUploadHandler"


def test_a_page_post_declaring_a_huge_body_is_413_unread(client, no_spooling):
    # The body is one byte: reading the 500 MB declared would fail in the test client's payload.
    response = client.post("/imports/", data=b"x", content_type="multipart/form-data; boundary=xyz",
                           CONTENT_LENGTH=HUGE)
    assert response.status_code == 413
    page = response.content.decode()
    assert "请求过大：500.0 MB，超过上限 21 MB（上传文件不超过 20 MB）" in page
    assert response["Content-Type"].startswith("text/html")


def test_an_api_post_declaring_a_huge_body_is_413_json(client, no_spooling):
    response = client.post("/api/v1/tables/1/reports/", data=b"{}", content_type="application/json",
                           CONTENT_LENGTH=HUGE)
    assert response.status_code == 413
    assert response.json()["detail"].startswith("请求过大：500.0 MB")


def test_a_body_within_the_limit_goes_through(client, settings):
    settings.UPLOAD_MAX_BYTES = 10
    from config.middleware import REQUEST_MARGIN

    response = client.post("/login/", data=b"x" * 100, content_type="application/octet-stream",
                           CONTENT_LENGTH=str(10 + REQUEST_MARGIN))
    assert response.status_code != 413
    response = client.post("/login/", data=b"x", content_type="application/octet-stream",
                           CONTENT_LENGTH=str(11 + REQUEST_MARGIN))
    assert response.status_code == 413


def _multipart_request(size: int):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return RequestFactory().post("/imports/", {"file": SimpleUploadedFile("大文件.xlsx", b"\0" * size)})


def test_an_upload_past_the_ceiling_stops_being_read_whatever_its_declared_length(monkeypatch, settings):
    import os

    from django.core.files import uploadhandler

    from config import middleware

    settings.UPLOAD_MAX_BYTES = 100_000
    monkeypatch.setattr(middleware, "REQUEST_MARGIN", 0)
    spooled = []
    new_file = uploadhandler.TemporaryFileUploadHandler.new_file

    def spy(self, *args, **kwargs):
        new_file(self, *args, **kwargs)
        spooled.append(self.file)

    monkeypatch.setattr(uploadhandler.TemporaryFileUploadHandler, "new_file", spy)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # straight to a temporary file: the case that fills a disk
    request = _multipart_request(3 * 1024 * 1024)
    request.META["CONTENT_LENGTH"] = "1000"  # as if the server had not declared it (chunked)
    seen = {}

    def view(request):
        seen["files"] = dict(request.FILES)
        return HttpResponse("ok")

    response = middleware.RequestSizeLimitMiddleware(view)(request)
    assert response.status_code == 413 and "请求过大" in response.content.decode()
    assert seen["files"] == {}
    assert request.upload_too_large <= 100_000 + 64 * 1024 * 2
    stream = request._stream
    assert stream.limit - stream._pos > 2 * 1024 * 1024  # the rest of the body was never read
    # the part of the file received went to a temporary file that is gone now
    assert len(spooled) == 1 and spooled[0].closed and not os.path.exists(spooled[0].name)


def test_an_upload_within_the_limit_is_received_whole(settings):
    settings.UPLOAD_MAX_BYTES = 1_000_000
    request = _multipart_request(500_000)
    assert request.FILES["file"].size == 500_000
    assert not getattr(request, "upload_too_large", None)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["ENOSPC", "EROFS"])
def test_a_form_whose_file_cannot_be_spooled_is_503_in_chinese(client, settings, monkeypatch, code, caplog):
    """The disk full or read-only while a large upload is received (before any view runs): a Chinese 503,
    the OS error in the log only, nothing stored."""
    import errno

    from django.contrib.auth import get_user_model
    from django.core.files import uploadedfile

    from kpi.models import Actual

    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # spooled to a temporary file from the 11th byte

    def no_disk(*args, **kwargs):
        raise OSError(getattr(errno, code), "No space left on device")

    monkeypatch.setattr(uploadedfile.tempfile, "NamedTemporaryFile", no_disk)
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "x"))
    from django.core.files.uploadedfile import SimpleUploadedFile
    upload = SimpleUploadedFile("actuals.csv", b"x" * 5000, content_type="text/csv")
    response = client.post("/actuals/import/", {"file": upload, "year": "2026"})
    text = response.content.decode()
    assert response.status_code == 503 and "服务器存储空间不足或不可写" in text
    assert "No space" not in text
    assert any(r.exc_info for r in caplog.records if r.name == "jixiao.storage")
    assert not Actual.objects.exists()
