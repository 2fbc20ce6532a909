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
